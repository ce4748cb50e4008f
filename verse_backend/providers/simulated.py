"""The offline provider: the real Anthropic SDK over an in-process transport that plays the API.

The transport answers /v1/messages with Anthropic's SSE wire format (anthropic_wire), one text
delta every VERSE_SIM_TOKEN_MS ms, so the offline path runs the same SDK code as production.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2

from verse_backend.providers import anthropic_wire as wire
from verse_backend.providers.anthropic import AnthropicProvider, sdk_client
from verse_backend.providers.simulated_text import simulated_answer
from verse_backend.settings import Settings

SIMULATED_BASE_URL = "http://simulated.invalid"
SIMULATED_MODEL = "verse-simulated-1"


def _text_of(content: Any) -> str:
    """A message's text, whether given as a string or as content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


async def _paced_body(tokens: list[str], token_s: float, message_id: str) -> AsyncIterator[bytes]:
    # The opening events in one chunk, as they often arrive in one read from the API: each
    # chunk passes a dozen generator layers (httpx2, the SDK's decoder) before the first token.
    yield b"".join(wire.opening(message_id, SIMULATED_MODEL, input_tokens=len(tokens)))
    # Deadlines from one start time, so the cadence does not drift by the per-token overhead.
    start = anyio.current_time()
    for index, token in enumerate(tokens, start=1):
        await anyio.sleep_until(start + index * token_s)
        yield wire.text_delta(token)
    for chunk in wire.closing("end_turn", output_tokens=len(tokens)):
        yield chunk


class SimulatedAnthropicTransport(httpx2.AsyncBaseTransport):
    """Answers POST /v1/messages (stream=true) like the API, without a network."""

    def __init__(self, token_ms: int) -> None:
        self._token_s = token_ms / 1000
        self._count = 0

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST" or not request.url.path.endswith("/v1/messages"):
            return httpx2.Response(404, json=_error_body("not_found_error", "no such endpoint"))
        payload = json.loads(await request.aread())
        messages = payload.get("messages", [])
        user_turns = [m for m in messages if m.get("role") == "user"]
        question = _text_of(user_turns[-1].get("content")) if user_turns else ""
        tokens = simulated_answer(question, turn=len(user_turns))
        self._count += 1
        message_id = f"msg_sim_{self._count:06d}"
        return httpx2.Response(
            200,
            headers={"content-type": "text/event-stream", "request-id": f"req_sim_{self._count}"},
            content=_paced_body(tokens, self._token_s, message_id),
        )


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


class SimulatedProvider(AnthropicProvider):
    """The anthropic provider, unchanged, whose HTTP client talks to SimulatedAnthropicTransport."""

    def __init__(self, *, token_ms: int, max_tokens: int) -> None:
        client = sdk_client(
            api_key="simulated-offline-no-key",
            base_url=SIMULATED_BASE_URL,
            http_client=httpx2.AsyncClient(transport=SimulatedAnthropicTransport(token_ms)),
        )
        super().__init__(client, model=SIMULATED_MODEL, max_tokens=max_tokens, name="simulated")

    @classmethod
    def from_settings(cls, settings: Settings) -> SimulatedProvider:
        return cls(token_ms=settings.sim_token_ms, max_tokens=settings.max_tokens)
