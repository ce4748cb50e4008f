"""The Anthropic provider: `AsyncAnthropic().messages.create(stream=True)`, failures mapped to ProviderError.

Every failure the SDK can raise mid-answer is classified into a safe kind (base.SAFE_MESSAGES);
raw provider JSON and credentials never leave this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING

import anthropic
import httpx2
from anthropic.types import AssistantMessageParam, MessageParam, UserMessageParam

from verse_backend.providers.base import ChatMessage, ProviderError
from verse_backend.settings import Settings

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

logger = logging.getLogger(__name__)

# A stream is not idempotent for our client: once text went out it cannot be taken back, and
# a retried request after a read timeout may be billed twice. Fail fast, let the user retry.
STREAM_MAX_RETRIES = 0
# Anthropic sends `ping` events while it thinks; two minutes of silence means it is gone.
STREAM_TIMEOUT = httpx2.Timeout(connect=10.0, read=120.0, write=30.0, pool=10.0)

# body["error"]["type"] of an Anthropic error -> our error kind.
_ERROR_KINDS: dict[str, str] = {
    "overloaded_error": "overloaded",
    "rate_limit_error": "rate_limited",
    "authentication_error": "upstream_auth",
    "permission_error": "upstream_auth",
    "billing_error": "upstream_auth",
    "invalid_request_error": "upstream_rejected",
    "request_too_large": "upstream_rejected",
    "not_found_error": "upstream_rejected",
    "timeout_error": "upstream_timeout",
    "api_error": "upstream_error",
}
_STATUS_KINDS: dict[int, str] = {
    401: "upstream_auth",
    403: "upstream_auth",
    429: "rate_limited",
    529: "overloaded",
}


def classify_status_error(exc: anthropic.APIStatusError) -> str:
    """The kind of an API error: by the body's error type first (it is all there is for an
    `event: error` that arrives after a 200), then by HTTP status."""
    error_type = exc.type if isinstance(exc.type, str) else None
    if error_type in _ERROR_KINDS:
        return _ERROR_KINDS[error_type]
    if exc.status_code in _STATUS_KINDS:
        return _STATUS_KINDS[exc.status_code]
    if 400 <= exc.status_code < 500:
        return "upstream_rejected"
    return "upstream_error"


def to_provider_error(exc: Exception) -> ProviderError | None:
    """Map an SDK or transport exception to a ProviderError; None for anything unexpected."""
    if isinstance(exc, anthropic.APIStatusError):
        return ProviderError(
            classify_status_error(exc), f"status {exc.status_code}, type {exc.type}"
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return ProviderError("upstream_timeout", type(exc).__name__)
    if isinstance(exc, anthropic.APIConnectionError):
        return ProviderError("upstream_unreachable", type(exc).__name__)
    # Mid-body failures come straight from httpx2, not wrapped by the SDK.
    if isinstance(exc, httpx2.TimeoutException):
        return ProviderError("upstream_timeout", type(exc).__name__)
    if isinstance(exc, httpx2.TransportError):
        return ProviderError("upstream_disconnected", type(exc).__name__)
    if isinstance(exc, anthropic.APIError):
        return ProviderError("upstream_error", type(exc).__name__)
    return None


def to_message_params(messages: Sequence[ChatMessage]) -> list[MessageParam]:
    params: list[MessageParam] = []
    for message in messages:
        if message.role == "user":
            params.append(UserMessageParam(role="user", content=message.content))
        else:
            params.append(AssistantMessageParam(role="assistant", content=message.content))
    return params


class AnthropicTextStream:
    """One streamed `messages.create` call, sent on first iteration."""

    def __init__(
        self,
        client: AsyncAnthropic,
        *,
        model: str,
        max_tokens: int,
        system: str,
        messages: Sequence[ChatMessage],
    ) -> None:
        self._client = client
        self._model = model
        self._max_tokens = max_tokens
        self._system = system
        self._messages = to_message_params(messages)
        self._stop_reason: str | None = None
        self._chunks = self._generate()

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks

    async def aclose(self) -> None:
        await self._chunks.aclose()

    async def _generate(self) -> AsyncGenerator[str, None]:
        finished = False
        try:
            # The SDK's raw event stream, not `messages.stream()`: that helper also rebuilds
            # the whole message and a second event per delta, which we never read (12% of the
            # server's CPU under load). Same parser, same pydantic event types.
            stream = await self._client.messages.create(
                model=self._model,
                max_tokens=self._max_tokens,
                # The API rejects an empty system prompt; leave it out instead.
                system=self._system or anthropic.omit,
                messages=self._messages,
                stream=True,
            )
            async with stream:
                async for event in stream:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield event.delta.text
                    elif event.type == "message_delta":
                        self._stop_reason = event.delta.stop_reason
                    elif event.type == "message_stop":
                        finished = True
        except Exception as exc:
            error = to_provider_error(exc)
            if error is None:
                raise
            logger.warning("model stream failed: %s (%s)", error.kind, error.detail)
            raise error from None
        if not finished:
            # The SDK treats a body that ends without `message_stop` as a normal end.
            logger.warning("model stream ended without message_stop")
            raise ProviderError("truncated", "no message_stop")


class AnthropicProvider:
    """Answers through Anthropic's Messages API (or anything speaking its wire format)."""

    def __init__(
        self, client: AsyncAnthropic, *, model: str, max_tokens: int, name: str = "anthropic"
    ) -> None:
        self._client = client
        self._model = model
        self._max_tokens = max_tokens
        self._name = name

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicProvider:
        key = settings.anthropic_api_key
        client = anthropic.AsyncAnthropic(
            api_key=key.get_secret_value() if key else None,
            base_url=settings.anthropic_base_url,
            max_retries=STREAM_MAX_RETRIES,
            timeout=STREAM_TIMEOUT,
        )
        return cls(client, model=settings.model, max_tokens=settings.max_tokens)

    @property
    def name(self) -> str:
        return self._name

    def stream(self, messages: Sequence[ChatMessage], *, system: str) -> AnthropicTextStream:
        return AnthropicTextStream(
            self._client,
            model=self._model,
            max_tokens=self._max_tokens,
            system=system,
            messages=messages,
        )

    async def aclose(self) -> None:
        await self._client.close()
