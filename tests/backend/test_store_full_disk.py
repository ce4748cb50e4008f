"""SQLite that cannot take a write (a full disk; made real with `PRAGMA max_page_count`, which
gives SQLite's own SQLITE_FULL): the write raises StoreUnavailable and is not applied, the
store works again once there is room, a stream's text waits in the answer writer meanwhile,
and a login gets 503."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.backend.doubles import scripted_app, serving
from tests.support.waiting import wait_until
from verse_backend.answer_writer import FLUSH_S, AnswerWriter
from verse_backend.store import Conversation, Store, StoreUnavailable

ROOM = 1_000_000  # pages: room again


def _fill(store: Store) -> None:
    """No page may be added from now on: the next write that needs one fails as on a full disk."""
    with store._lock:  # the server's thread may use the connection too
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")


def _make_room(store: Store) -> None:
    with store._lock:
        store._db.execute(f"PRAGMA max_page_count = {ROOM}")


def _streaming_answer(store: Store) -> int:
    _history, answer_id = store.start_turn(Conversation("c1", "s1", None), "question")
    return answer_id


def _content(store: Store, answer_id: int) -> tuple[str, str]:
    answer = store.answer(answer_id)
    assert answer is not None
    return answer.content, answer.status


def test_a_write_to_a_full_database_raises_store_unavailable_and_is_not_applied(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "verse.sqlite3")
    try:
        answer_id = _streaming_answer(store)
        _fill(store)
        with pytest.raises(StoreUnavailable, match="SQLITE_FULL"):
            store.append_answers({answer_id: "x" * 200_000})
        with pytest.raises(StoreUnavailable, match="SQLITE_FULL"):
            store.start_turn(Conversation("c2", "s1", None), "y" * 200_000)
        assert _content(store, answer_id) == ("", "streaming")  # nothing half-written
        assert store.conversation("c2") is None
        _make_room(store)
        store.append_answers({answer_id: "x" * 200_000})
        store.finish_answer(answer_id, "complete", "end_turn", "!")
        assert _content(store, answer_id) == ("x" * 200_000 + "!", "complete")
    finally:
        store.close()


def test_a_streams_text_waits_out_a_full_disk(tmp_path: Path) -> None:
    store = Store(tmp_path / "verse.sqlite3")
    answer_id = _streaming_answer(store)
    tokens = ["t" * 50_000 for _ in range(8)]

    async def run() -> None:
        writer = AnswerWriter(store, answer_id)
        _fill(store)
        for token in tokens:
            writer.add(token)
        writer.finish("complete", "end_turn")  # kept: the disk is full
        assert _content(store, answer_id) == ("", "streaming")
        _make_room(store)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20 * FLUSH_S + 10
        while _content(store, answer_id)[1] != "complete":  # the writer's timer stores it
            assert loop.time() < deadline, "the kept answer was never stored"
            await asyncio.sleep(FLUSH_S / 4)

    try:
        asyncio.run(run())
        assert _content(store, answer_id) == ("".join(tokens), "complete")
    finally:
        store.close()


def test_a_login_on_a_full_database_gets_503(tmp_path: Path) -> None:
    app = scripted_app(tmp_path)
    with serving(app) as url, httpx.Client(base_url=url) as client:
        assert client.post("/api/session", json={}).status_code == 200
        store: Store = app.state.store
        _fill(store)
        # Enough logins that a new page is needed (each keeps a session row).
        statuses = [client.post("/api/session", json={}).status_code for _ in range(200)]
        assert 503 in statuses and 500 not in statuses, statuses
        refused = client.post("/api/session", json={})
        assert refused.status_code == 503
        assert refused.json() == {"detail": "database unavailable"}
        _make_room(store)
        wait_until(
            lambda: client.post("/api/session", json={}).status_code == 200, 10, "room again"
        )
