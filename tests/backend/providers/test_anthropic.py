"""The anthropic provider through the real SDK against a fake Anthropic API on a real socket:
directly (ProviderError kinds) and through the backend over HTTP (SSE events)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from pydantic import SecretStr

from tests.backend.conftest import FAKE_API_KEY
from tests.backend.sse_client import CHAT_PATH, chat_body, read_stream
from tests.support.backend_server import FakeAnthropic, FakeScript
from tests.support.waiting import wait_until
from verse_backend.providers.anthropic import AnthropicProvider
from verse_backend.providers.base import ChatMessage, ProviderError
from verse_backend.settings import Settings
from versectl.demo.ports import free_port

TOKENS = [f"t{i} " for i in range(8)]


def _collect(
    fake: FakeAnthropic, script: FakeScript, system: str = "be brief"
) -> tuple[list[str], object]:
    """Run one provider stream to its end: (chunks, stop_reason or the ProviderError)."""
    fake.script = script
    settings = Settings(
        provider="anthropic",
        anthropic_api_key=SecretStr(FAKE_API_KEY),
        anthropic_base_url=fake.base_url,
    )

    async def run() -> tuple[list[str], object]:
        provider = AnthropicProvider.from_settings(settings)
        chunks: list[str] = []
        try:
            stream = provider.stream([ChatMessage("user", "hello")], system=system)
            async for chunk in stream:
                chunks.append(chunk)
            return chunks, stream.stop_reason
        except ProviderError as error:
            return chunks, error
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_anthropic_provider_yields_text_in_order(fake_anthropic: FakeAnthropic) -> None:
    chunks, outcome = _collect(fake_anthropic, FakeScript(tokens=TOKENS, stop_reason="max_tokens"))
    assert chunks == TOKENS
    assert outcome == "max_tokens"
    request = fake_anthropic.requests[-1]
    assert request.body["messages"] == [{"role": "user", "content": "hello"}]
    assert request.body["system"] == "be brief"
    assert request.body["stream"] is True
    assert FAKE_API_KEY in (
        request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    )


def test_anthropic_provider_omits_an_empty_system_prompt(fake_anthropic: FakeAnthropic) -> None:
    chunks, _ = _collect(fake_anthropic, FakeScript(tokens=TOKENS), system="")
    assert chunks == TOKENS
    assert "system" not in fake_anthropic.requests[-1].body


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (FakeScript(tokens=TOKENS, ending="overloaded", fail_after=3), "overloaded"),
        (FakeScript(tokens=TOKENS, ending="drop", fail_after=3), "upstream_disconnected"),
        (FakeScript(tokens=TOKENS, ending="truncated", fail_after=3), "truncated"),
    ],
    ids=["overloaded", "drop", "truncated"],
)
def test_anthropic_provider_mid_stream_failure_is_a_provider_error(
    fake_anthropic: FakeAnthropic, script: FakeScript, kind: str
) -> None:
    chunks, outcome = _collect(fake_anthropic, script)
    assert chunks == TOKENS[:3]
    assert isinstance(outcome, ProviderError)
    assert outcome.kind == kind


@pytest.mark.parametrize(
    ("status", "kind"), [(529, "overloaded"), (429, "rate_limited"), (401, "upstream_auth")]
)
def test_anthropic_provider_error_status_is_not_retried(
    fake_anthropic: FakeAnthropic, status: int, kind: str
) -> None:
    before = len(fake_anthropic.requests)
    chunks, outcome = _collect(fake_anthropic, FakeScript(status=status))
    assert chunks == []
    assert isinstance(outcome, ProviderError) and outcome.kind == kind
    assert len(fake_anthropic.requests) == before + 1, "the SDK retried a stream request"


def test_anthropic_provider_unreachable_upstream_is_a_provider_error() -> None:
    port = free_port()  # nobody listens there
    settings = Settings(
        provider="anthropic",
        anthropic_api_key=SecretStr(FAKE_API_KEY),
        anthropic_base_url=f"http://127.0.0.1:{port}",
    )

    async def run() -> ProviderError:
        provider = AnthropicProvider.from_settings(settings)
        try:
            async for _ in provider.stream([ChatMessage("user", "hi")], system=""):
                pass
        except ProviderError as error:
            return error
        finally:
            await provider.aclose()
        raise AssertionError("no error")

    assert asyncio.run(run()).kind == "upstream_unreachable"


# --- through the backend, over HTTP ------------------------------------------------------------


def test_anthropic_backend_streams_upstream_text_in_order(
    anthropic_client: httpx.Client, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script = FakeScript(tokens=TOKENS, token_interval=0.01)
    result = read_stream(anthropic_client)
    assert [e.json()["text"] for e in result.named("token")] == TOKENS
    assert result.events[-1].event == "done"
    assert result.events[-1].json()["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("ending", "kind"),
    [
        ("overloaded", "overloaded"),
        ("drop", "upstream_disconnected"),
        ("truncated", "truncated"),
    ],
)
def test_anthropic_backend_mid_stream_failure_is_an_error_event(
    anthropic_client: httpx.Client, fake_anthropic: FakeAnthropic, ending: str, kind: str
) -> None:
    fake_anthropic.script = FakeScript(tokens=TOKENS, ending=ending, fail_after=3)  # type: ignore[arg-type]
    result = read_stream(anthropic_client)
    assert result.status == 200
    assert [e.event for e in result.events] == ["token"] * 3 + ["error"]
    error = result.events[-1].json()
    assert error["type"] == kind
    assert set(error) == {"message", "type"}
    # Safe: no raw provider JSON, no key, no upstream wording.
    assert FAKE_API_KEY not in result.body
    assert "overloaded_error" not in result.body and "{" not in error["message"]


def test_anthropic_backend_answers_at_once_while_upstream_is_slow(
    anthropic_client: httpx.Client, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script = FakeScript(tokens=TOKENS, headers_delay=1.0)
    start = time.perf_counter()
    with anthropic_client.stream("POST", CHAT_PATH, json=chat_body()) as response:
        headers_after = time.perf_counter() - start
        assert response.status_code == 200
        body = response.read().decode()
    assert headers_after < 0.5, "the response waited for the upstream before starting"
    assert time.perf_counter() - start >= 1.0
    assert "event: done" in body


def test_anthropic_backend_client_disconnect_closes_upstream_within_1s(
    anthropic_client: httpx.Client, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.script = FakeScript(tokens=["slow "] * 50, token_interval=0.2)
    index = len(fake_anthropic.requests)
    with anthropic_client.stream("POST", CHAT_PATH, json=chat_body()) as response:
        upstream = fake_anthropic.wait_request(index, timeout=5)
        seen = ""
        for chunk in response.iter_raw():
            seen += chunk.decode()
            if seen.count("event: token") >= 3:
                break
    hung_up = time.perf_counter()
    assert upstream.client_closed.wait(1.0), "upstream still open 1 s after the client left"
    assert time.perf_counter() - hung_up < 1.0
    assert upstream.tokens_sent < 50
    # The partial answer is stored, marked interrupted (the store is another process's).
    conversation_id = response.headers["x-conversation-id"]

    def interrupted_answer_stored() -> bool:
        history = anthropic_client.get(f"/api/chat/conversations/{conversation_id}").json()
        return [m["status"] for m in history["messages"]] == ["complete", "interrupted"]

    wait_until(interrupted_answer_stored, 2.0, "the interrupted answer to be stored")
