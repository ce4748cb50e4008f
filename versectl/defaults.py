"""The defaults commands share: the chat URIs, the SSE heartbeat, verse_backend's port. No
imports, so the CLI can read them without loading any command."""

CHAT_URIS: tuple[str, ...] = ("/api/chat/message", "/api/standalone-chat")
"""The chat endpoints of the seed app, which check and fix look at unless --uri says."""

HEARTBEAT_S = 15.0
"""Seconds between the backend's SSE heartbeats: a read timeout must exceed it."""

BACKEND_PORT = 7776
"""verse_backend's production port (when no docker compose file says otherwise)."""
