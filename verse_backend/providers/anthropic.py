"""The Anthropic provider: `AsyncAnthropic().messages.create(stream=True)` through the SDK, failures
mapped to ProviderError.

Every failure the SDK can raise mid-answer is classified into a safe kind (base.SAFE_MESSAGES);
raw provider JSON and credentials never leave this module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import TYPE_CHECKING

import anthropic
import httpx2
from anthropic import AsyncStream
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
            # The SDK sends the request (auth, headers, status errors as APIStatusError) and
            # decodes the SSE framing (`AsyncStream.raw_events`); we read the JSON of the four
            # event types we use instead of letting it build a pydantic model per event and
            # re-chunk the body by 64 bytes: that was 25% of the server's CPU per token under
            # load (py-spy, 500 streams). Production and the simulated model share this code.
            async with self._client.messages.with_streaming_response.create(
                model=self._model,
                max_tokens=self._max_tokens,
                # The API rejects an empty system prompt; leave it out instead.
                system=self._system or anthropic.omit,
                messages=self._messages,
                stream=True,
            ) as response:
                async for sse in AsyncStream.raw_events(response.http_response):
                    kind = sse.event
                    if kind == "content_block_delta":
                        delta = _field(sse.json(), "delta")
                        if delta.get("type") == "text_delta":
                            yield str(delta.get("text", ""))
                    elif kind == "message_delta":
                        self._stop_reason = _stop_reason(sse.json())
                    elif kind == "message_stop":
                        finished = True
                    elif kind == "error":
                        raise stream_error(sse.data)
        except ProviderError:
            raise
        except Exception as exc:
            error = to_provider_error(exc)
            if error is None:
                raise
            logger.warning("model stream failed: %s (%s)", error.kind, error.detail)
            raise error from None
        if not finished:
            # A body that ends without `message_stop` is cut short, whatever the SDK thinks.
            logger.warning("model stream ended without message_stop")
            raise ProviderError("truncated", "no message_stop")


def _field(body: object, name: str) -> dict[str, object]:
    """`body[name]` when both are JSON objects, else an empty one (an odd event is skipped)."""
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, dict) else {}


def _stop_reason(body: object) -> str | None:
    reason = _field(body, "delta").get("stop_reason")
    return reason if isinstance(reason, str) else None


def stream_error(data: str) -> ProviderError:
    """An `event: error` after the 200 (e.g. overloaded_error), classified like an HTTP error
    by its body's error type; the body itself goes to the log only."""
    try:
        error_type = _field(json.loads(data), "error").get("type")
    except ValueError:
        error_type = None
    kind = _ERROR_KINDS.get(error_type, "upstream_error") if isinstance(error_type, str) else None
    error = ProviderError(kind or "upstream_error", f"event: error, type {error_type}")
    logger.warning("model stream failed: %s (%s)", error.kind, error.detail)
    return error


def sdk_client(
    *, api_key: str | None, base_url: str | None, http_client: httpx2.AsyncClient | None = None
) -> AsyncAnthropic:
    """The SDK client of both providers (the simulated one passes its in-process transport)."""
    return anthropic.AsyncAnthropic(
        api_key=api_key,
        base_url=base_url,
        max_retries=STREAM_MAX_RETRIES,
        timeout=STREAM_TIMEOUT,
        http_client=http_client,
        # verse_backend exports no OpenTelemetry (FastAPI's hooks are off too, app.py); left
        # on, the SDK builds each call's span attributes only to find that nothing records
        # them (30 us a request).
        open_telemetry=False,
    )


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
        client = sdk_client(
            api_key=key.get_secret_value() if key else None, base_url=settings.anthropic_base_url
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
