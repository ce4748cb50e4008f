"""App profiles: what versectl needs to know of an LLM chat app behind nginx (streaming URIs,
backend port, probe body, token framing, heartbeat, WebSocket paths), one data file each."""
