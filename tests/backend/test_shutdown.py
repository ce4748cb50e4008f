"""Shutdown with a stream open (real uvicorn subprocesses, real signals): every token the client
got is in the DB, the answer is marked interrupted, and the client reads a clean end."""

from __future__ import annotations

import math
import signal
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.backend.sse_client import CHAT_PATH, SseEvent, chat_body, iter_events, new_client
from tests.support.backend_server import BackendProcess, Entry, running_backend
from verse_backend.answer_writer import FLUSH_S
from verse_backend.server import stream_grace_s

TOKENS_BEFORE_SIGNAL = 10  # about 2 s at 200 ms a token, as in the report
KILL_TOKEN_MS = 50


def _stream_and_signal(
    url: str, backend: BackendProcess, sig: signal.Signals
) -> tuple[list[SseEvent], str]:
    """Stream a chat, send `sig` after TOKENS_BEFORE_SIGNAL tokens, read until the end.

    Returns every event received and the conversation id."""
    assert backend.process is not None
    events: list[SseEvent] = []
    with (
        new_client(url) as client,
        client.stream("POST", CHAT_PATH, json=chat_body()) as response,
    ):
        assert response.status_code == 200
        conversation_id = response.headers["x-conversation-id"]
        for event in iter_events(response):
            events.append(event)
            if sum(e.event == "token" for e in events) == TOKENS_BEFORE_SIGNAL:
                backend.process.send_signal(sig)
    backend.process.wait(timeout=10)
    return events, conversation_id


def _stored_answer(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT role, status, content FROM messages ORDER BY id").fetchall()


def _token_text(events: list[SseEvent]) -> str:
    return "".join(e.json()["text"] for e in events if e.event == "token")


@pytest.mark.parametrize(
    ("entry", "sig"),
    [("verse-backend", signal.SIGTERM), ("verse-backend", signal.SIGINT)],
)
def test_shutdown_stores_partial_answer_and_ends_stream_cleanly(
    tmp_path: Path, entry: Entry, sig: signal.Signals
) -> None:
    backend = BackendProcess()
    env = {"VERSE_SIM_TOKEN_MS": "200"}
    with running_backend(tmp_path, env, entry=entry, handle=backend) as url:
        events, _ = _stream_and_signal(url, backend, sig)
    assert events[-1].event == "error", events[-3:]
    assert events[-1].json()["type"] == "server_shutdown"
    received = _token_text(events)
    assert len(received) > 0
    rows = _stored_answer(tmp_path / "verse-backend" / "verse.sqlite3")
    assert [(role, status) for role, status, _ in rows] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
    ]
    assert rows[1][2] == received


def test_shutdown_under_bare_uvicorn_keeps_every_token_sent(tmp_path: Path) -> None:
    # `uvicorn --factory` has no shutdown drain: the stream is cancelled at the graceful
    # timeout and the connection cut, but nothing the client got may be missing from the DB.
    backend = BackendProcess()
    with running_backend(tmp_path, {"VERSE_SIM_TOKEN_MS": "200"}, handle=backend) as url:
        events, _ = _stream_and_signal(url, backend, signal.SIGTERM)
    assert not any(e.event in ("done", "error") for e in events)
    rows = _stored_answer(tmp_path / "verse-backend" / "verse.sqlite3")
    assert [(role, status) for role, status, _ in rows] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
    ]
    assert rows[1][2] == _token_text(events)


def test_killed_backend_keeps_every_token_sent_and_marks_it_interrupted(tmp_path: Path) -> None:
    # SIGKILL runs no cleanup at all: the tokens are there because each is stored at most
    # FLUSH_S after it was sent (answer_writer.py), and the next start marks the answer that
    # was streaming as interrupted. What may be missing is only the last FLUSH_S of the text.
    backend = BackendProcess()
    with running_backend(
        tmp_path, {"VERSE_SIM_TOKEN_MS": str(KILL_TOKEN_MS)}, handle=backend
    ) as url:
        events, conversation_id = _stream_and_signal(url, backend, signal.SIGKILL)
    with running_backend(tmp_path) as url, httpx.Client(base_url=url, timeout=60) as client:
        # A new session cannot read the old conversation; the DB tells the truth.
        assert client.get(f"/api/chat/conversations/{conversation_id}").status_code == 401
    rows = _stored_answer(tmp_path / "verse-backend" / "verse.sqlite3")
    assert rows[1][:2] == ("assistant", "interrupted")
    tokens = [e.json()["text"] for e in events if e.event == "token"]
    stored = rows[1][2]
    kept = next(k for k in range(len(tokens), -1, -1) if "".join(tokens[:k]) == stored)
    # Sent in the last FLUSH_S, plus one token in flight when the signal went out.
    assert len(tokens) - kept <= math.ceil(FLUSH_S * 1000 / KILL_TOKEN_MS) + 1, (tokens, stored)
    assert kept > 0


def test_stream_grace_leaves_time_to_close_within_the_graceful_timeout() -> None:
    assert [stream_grace_s(t) for t in (0.0, 0.4, 1.0, 5.0)] == [0.0, 0.2, 0.5, 4.5]
