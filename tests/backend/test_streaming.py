"""The SSE stream of a chat turn, observed over real sockets: cadence, headers, event order,
keepalive pings, and what happens when the client goes away."""

from __future__ import annotations

import itertools
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.backend.conftest import SIM_TOKEN_MS
from tests.backend.doubles import RecordingStore, ScriptedProvider, scripted_app, serving
from tests.backend.sse_client import (
    CHAT_PATH,
    chat_body,
    new_client,
    parse_sse,
    read_stream,
)
from tests.support.waiting import wait_until
from verse_backend import sse_response


def test_stream_arrives_token_by_token_over_a_real_socket(client: httpx.Client) -> None:
    result = read_stream(client)
    assert result.status == 200
    tokens = result.named("token")
    times = [at for at, _ in result.reads]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # A read counts as separate when it came well after the one before: a burst delivered in
    # many small reads does not pass.
    separate = [gap for gap in gaps if gap >= SIM_TOKEN_MS / 3 / 1000]
    assert len(separate) >= 20, (len(tokens), gaps)
    # Spread over the stream's nominal duration, not bunched at its end.
    nominal = len(tokens) * SIM_TOKEN_MS / 1000
    assert times[-1] - times[0] >= 0.6 * nominal, (times[0], times[-1], nominal)
    assert statistics.median(gaps) >= SIM_TOKEN_MS / 2 / 1000, gaps


def test_stream_headers_tell_proxies_not_to_buffer(client: httpx.Client) -> None:
    result = read_stream(client)
    assert result.status == 200
    assert result.headers["content-type"].startswith("text/event-stream")
    assert result.headers["cache-control"] == "no-cache"
    assert result.headers["x-accel-buffering"] == "no"
    assert "content-length" not in result.headers


def test_stream_ends_with_done_carrying_the_turn(client: httpx.Client) -> None:
    result = read_stream(client)
    events = result.events
    assert [e.event for e in events[:-1]] == ["token"] * (len(events) - 1)
    assert events[-1].event == "done"
    done = events[-1].json()
    assert done["tokens"] == len(events) - 1
    assert done["stop_reason"] == "end_turn"
    assert done["conversation_id"] == result.headers["x-conversation-id"]
    stored = client.get(f"/api/chat/conversations/{done['conversation_id']}").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"]
    assert stored["messages"][1]["content"] == result.text
    assert stored["messages"][1]["status"] == "complete"


def test_stream_sends_ping_comments_while_the_model_is_silent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read at each stream; 15 s in production.
    monkeypatch.setattr(sse_response, "PING_INTERVAL_S", 0.05)
    provider = ScriptedProvider(["first", 0.6, " second"])
    with serving(scripted_app(tmp_path), provider) as url, new_client(url) as client:
        result = read_stream(client)
    events = result.events
    kinds = [e.event or f": {e.comment}" for e in events]
    assert kinds[0] == "token" and kinds[-2:] == ["token", "done"], kinds
    assert set(kinds[1:-2]) == {": ping"}, kinds
    assert len(kinds) - 3 >= 3, kinds


def test_stream_disconnect_cancels_the_model_and_stores_the_partial_answer(
    tmp_path: Path,
) -> None:
    provider = ScriptedProvider(["one", " two", " three"], hang=True)
    store = RecordingStore(tmp_path / "recorded" / "verse.sqlite3")
    app = scripted_app(tmp_path, max_streams_per_session=1)
    with serving(app, provider, store) as url, new_client(url) as client:
        with client.stream("POST", CHAT_PATH, json=chat_body()) as response:
            assert response.status_code == 200
            seen = ""
            for chunk in response.iter_raw():
                seen += chunk.decode()
                if seen.count("event: token") == 3:
                    break
        # Leaving the block closed the connection with the body unread.
        hung_up = time.perf_counter()
        assert provider.closed.wait(1.0), "the model call was not cancelled within 1 s"
        assert time.perf_counter() - hung_up < 1.0
        assert store.answer_stored.wait(1.0)
        assert store.answers == [("one two three", "interrupted")]
        slots = app.state.stream_slots
        wait_until(lambda: not slots.open_streams, 1.0, "the stream slot to be released")
        conversation_id = response.headers["x-conversation-id"]
        history = client.get(f"/api/chat/conversations/{conversation_id}").json()
    assert [(m["role"], m["status"]) for m in history["messages"]] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
    ]


class _FailingOnCancel(ScriptedProvider):
    """A provider whose stream raises while it is being cancelled (a broken SDK cleanup)."""

    def stream(self, messages, *, system):  # type: ignore[no-untyped-def]
        inner = super().stream(messages, system=system)

        class Stream:
            stop_reason = "end_turn"

            def __aiter__(self):  # type: ignore[no-untyped-def]
                return self._chunks()

            async def _chunks(self):  # type: ignore[no-untyped-def]
                try:
                    async for chunk in inner:
                        yield chunk
                except BaseException:
                    raise RuntimeError("cleanup failed") from None

            async def aclose(self) -> None:
                await inner.aclose()

        return Stream()


def test_stream_disconnect_with_provider_failing_on_cancel_still_stores_interrupted(
    tmp_path: Path,
) -> None:
    provider = _FailingOnCancel(["one", " two"], hang=True)
    store = RecordingStore(tmp_path / "recorded" / "verse.sqlite3")
    app = scripted_app(tmp_path, max_streams_per_session=1)
    with serving(app, provider, store) as url, new_client(url) as client:
        with client.stream("POST", CHAT_PATH, json=chat_body()) as response:
            seen = ""
            for chunk in response.iter_raw():
                seen += chunk.decode()
                if seen.count("event: token") == 2:
                    break
        assert store.answer_stored.wait(2.0)
        assert store.answers == [("one two", "interrupted")]
        slots = app.state.stream_slots
        wait_until(lambda: not slots.open_streams, 1.0, "the stream slot to be released")


def test_stream_slot_is_free_again_once_a_stream_completed(client: httpx.Client) -> None:
    # Limit 2: had the first stream leaked its slot, one of the next two would get 429.
    assert read_stream(client).status == 200
    with (
        client.stream("POST", CHAT_PATH, json=chat_body()) as first,
        client.stream("POST", CHAT_PATH, json=chat_body()) as second,
    ):
        assert (first.status_code, second.status_code) == (200, 200)


def test_stream_of_a_model_failure_is_one_error_event(tmp_path: Path) -> None:
    class Exploding(ScriptedProvider):
        def stream(self, messages, *, system):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom with secret sk-ant-xyz")

    with serving(scripted_app(tmp_path), Exploding([])) as url, new_client(url) as client:
        result = read_stream(client)
    assert result.status == 200
    assert [e.event for e in result.events] == ["error"]
    error = result.events[0].json()
    assert error["type"] == "internal"
    assert "boom" not in result.body and "sk-ant" not in result.body


def test_parse_sse_reads_events_and_comments() -> None:
    events = parse_sse(': ping\n\nevent: token\ndata: {"text": "a"}\n\n')
    assert events[0].comment == "ping" and events[0].event is None
    assert events[1].event == "token" and events[1].json() == {"text": "a"}
