"""The provider protocol: a model answer as an async stream of text chunks, failures as ProviderError.

Shaped like httpx's transports: the routes know only this protocol; `AnthropicProvider` (real
API, or the simulated one through a mock transport) and test doubles implement it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Role = Literal["user", "assistant"]

# The `type` of an `event: error`, and the only words a client ever sees about a failure.
SAFE_MESSAGES: dict[str, str] = {
    "overloaded": "The model is overloaded right now. Please try again in a moment.",
    "rate_limited": "Too many requests to the model. Please wait a little and try again.",
    "upstream_auth": "The server's model credentials were rejected. Tell the operator.",
    "upstream_rejected": "The model rejected this request.",
    "upstream_error": "The model service failed while answering.",
    "upstream_unreachable": "The model service could not be reached.",
    "upstream_timeout": "The model service stopped responding.",
    "upstream_disconnected": "The connection to the model service dropped mid-answer.",
    "truncated": "The model's answer ended before it was complete.",
    "internal": "The server failed while answering.",
    "server_shutdown": "The server is restarting; the answer so far was saved. Ask again shortly.",
    "store_unavailable": "The server's database is unavailable right now. Ask again shortly.",
}


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation as the model sees it."""

    role: Role
    content: str


class ProviderError(Exception):
    """A failure safe to show to the client: `kind` is a key of SAFE_MESSAGES."""

    def __init__(self, kind: str, detail: str = "") -> None:
        if kind not in SAFE_MESSAGES:
            raise ValueError(f"unknown provider error kind {kind!r}")
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        """For the server log only: never sent to the client."""

    @property
    def safe_message(self) -> str:
        return SAFE_MESSAGES[self.kind]


class TextStream(Protocol):
    """One answer being generated: iterate for text chunks, then read `stop_reason`.

    Iteration raises ProviderError on failure. `aclose()` must release the upstream call;
    it is what a client disconnect ends up calling (through task cancellation or aclosing).
    """

    @property
    def stop_reason(self) -> str | None: ...

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None: ...


class ChatProvider(Protocol):
    """Something that answers a conversation with streamed text."""

    @property
    def name(self) -> str:
        """What /api/health reports: "simulated" or "anthropic"."""
        ...

    def stream(self, messages: Sequence[ChatMessage], *, system: str) -> TextStream:
        """Start answering `messages` (oldest first, the last one from the user).

        Must not await anything before the caller iterates: the HTTP response starts at once.
        """
        ...

    async def aclose(self) -> None:
        """Release connections; called once at shutdown."""
        ...
