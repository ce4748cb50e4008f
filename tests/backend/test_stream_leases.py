"""Stream leases on a real PostgreSQL: an answer whose replica died is marked interrupted once
its lease expires by the database's clock (text kept), a live replica's never is, a clean
stop drops the lease; and the timer that renews them."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from tests.support.waiting import wait_until
from verse_backend import store_postgres
from verse_backend.settings import DEFAULT_STREAM_LEASE_S, Settings
from verse_backend.store import Conversation, Store
from verse_backend.store_postgres import PostgresStore, migrate
from verse_backend.stream_leases import leases_kept

LEASE_S = 1.5
DB = psycopg.Connection[tuple[Any, ...]]


@contextmanager
def replica(url: str, lease_s: float = LEASE_S) -> Iterator[PostgresStore]:
    store = PostgresStore(url, lease_s=lease_s)
    try:
        yield store
    finally:
        store.close()


def _db_now(db: DB) -> datetime:
    row = db.execute("SELECT now()").fetchone()
    assert row is not None
    value: datetime = row[0]
    return value


def _heartbeat(db: DB, replica_id: str) -> datetime | None:
    row = db.execute("SELECT heartbeat FROM replicas WHERE id = %s", (replica_id,)).fetchone()
    return row[0] if row else None


def _kill_connection(db: DB, store: PostgresStore) -> None:
    """What the database sees of a replica that died: its connection ends, nothing else."""
    row = db.execute(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
        (f"verse-backend {store.replica_id}",),
    ).fetchone()
    assert row == (1,)


def _streaming_answer(store: PostgresStore, text: str) -> int:
    store.begin_turn(Conversation("c1", "s1", None), "hello")
    answer_id = store.start_answer("c1")
    store.append_answer(answer_id, text)
    return answer_id


def _status(store: PostgresStore, answer_id: int) -> tuple[str, str]:
    answer = store.answer(answer_id)
    assert answer is not None
    return answer.status, answer.content


@dataclass(frozen=True)
class Poll:
    db_time_after: datetime
    reaped: int
    status: str


def test_a_dead_replicas_answer_is_interrupted_once_its_lease_expired_with_its_text_kept(
    db_url: str, db: DB
) -> None:
    with replica(db_url) as a, replica(db_url) as b:
        answer_id = _streaming_answer(a, "partial ")
        a.append_answer(answer_id, "text")
        a.keep_leases()
        last_beat = _heartbeat(db, a.replica_id)
        assert last_beat is not None
        _kill_connection(db, a)

        polls: list[Poll] = []

        def reaped() -> bool:
            count = b.keep_leases()
            status, _ = _status(b, answer_id)
            polls.append(Poll(_db_now(db), count, status))
            return status == "interrupted"

        wait_until(reaped, LEASE_S + 20, "B to mark the dead replica's answer interrupted")
        assert _status(b, answer_id) == ("interrupted", "partial text")
        assert polls[-1].reaped == 1 and sum(p.reaped for p in polls) == 1
        # Never before the lease could expire, by the database's clock: every poll that ended
        # (DB time) before the last heartbeat + the lease found the answer still streaming.
        expiry = last_beat + timedelta(seconds=LEASE_S)
        early = [p for p in polls if p.db_time_after < expiry]
        assert early, "the first poll came after the lease expired (machine stalled?)"
        assert all((p.reaped, p.status) == (0, "streaming") for p in early), polls
        assert _heartbeat(db, a.replica_id) is None  # an expired replica is forgotten
        assert _heartbeat(db, b.replica_id) is not None


def test_a_replica_opening_after_the_lease_expired_reaps_at_start(db_url: str, db: DB) -> None:
    with replica(db_url) as a:
        answer_id = _streaming_answer(a, "partial")
        last_beat = _heartbeat(db, a.replica_id)
        assert last_beat is not None
        _kill_connection(db, a)
    expiry = last_beat + timedelta(seconds=LEASE_S)
    wait_until(lambda: _db_now(db) > expiry, LEASE_S + 20, "the lease to expire")
    with replica(db_url) as c:  # no timer here: only the open itself
        assert _status(c, answer_id) == ("interrupted", "partial")


def test_a_live_replicas_answer_is_never_reaped(db_url: str, db: DB) -> None:
    with replica(db_url) as a, replica(db_url) as b:
        answer_id = _streaming_answer(a, "still writing")
        start = _db_now(db)

        def outlived_two_leases() -> bool:
            a.keep_leases()  # A's timer
            assert b.keep_leases() == 0
            assert _status(b, answer_id) == ("streaming", "still writing")
            return _db_now(db) > start + timedelta(seconds=2 * LEASE_S)

        wait_until(outlived_two_leases, 2 * LEASE_S + 20, "two leases of DB time to pass")
        a.finish_answer(answer_id, "complete")
        assert _status(b, answer_id) == ("complete", "still writing")


@contextmanager
def _clock_off_by(monkeypatch: pytest.MonkeyPatch, seconds: float) -> Iterator[None]:
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(time, "time", lambda: real() + seconds)
        yield


def test_leases_use_the_databases_clock_not_the_replicas(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Replicas whose clocks are a day apart: a lease written by the slow one is still fresh to
    # the fast one, and the other way round.
    day = 86400.0
    with replica(db_url, lease_s=30) as a, replica(db_url, lease_s=30) as b:
        with _clock_off_by(monkeypatch, -day):
            answer_id = _streaming_answer(a, "x")
            a.keep_leases()
        with _clock_off_by(monkeypatch, +day):
            assert b.keep_leases() == 0
            a.keep_leases()
        with _clock_off_by(monkeypatch, -day):
            assert b.keep_leases() == 0
        assert _status(b, answer_id) == ("streaming", "x")


def test_a_clean_stop_marks_its_answers_and_drops_its_lease(db_url: str, db: DB) -> None:
    with replica(db_url, lease_s=3600) as b:
        with replica(db_url, lease_s=3600) as a:
            answer_id = _streaming_answer(a, "partial")
            assert _heartbeat(db, a.replica_id) is not None
        # No waiting for an hour's lease: closed, the answer is marked and the lease gone.
        assert _status(b, answer_id) == ("interrupted", "partial")
        assert _heartbeat(db, a.replica_id) is None
        assert b.keep_leases() == 0


def test_answers_streaming_before_leases_existed_are_reaped(
    db_url: str, db: DB, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A database at schema version 1 (no owner column), with an answer a replica of that
    # version left streaming: nobody holds a lease on it.
    with monkeypatch.context() as patch:
        patch.setattr(store_postgres, "MIGRATIONS", store_postgres.MIGRATIONS[:1])
        assert migrate(db) == 1
    db.execute("INSERT INTO conversations VALUES ('c0', 's0', NULL, 0)")
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, status, created_at) "
        "VALUES ('c0', 'assistant', 'old text', 'streaming', 0)"
    )
    with replica(db_url) as store:
        [old] = store.history("c0")
        assert (old.status, old.content) == ("interrupted", "old text")


@pytest.mark.parametrize("value", ["0", "0.5", "3601", "nan"])
def test_the_lease_setting_is_bounded(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("VERSE_STREAM_LEASE_SECONDS", value)
    with pytest.raises(ValidationError, match="stream_lease_seconds"):
        Settings()


def test_the_lease_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().stream_lease_seconds == DEFAULT_STREAM_LEASE_S == 30
    monkeypatch.setenv("VERSE_STREAM_LEASE_SECONDS", "2.5")
    assert Settings().stream_lease_seconds == 2.5


def test_sqlite_keeps_no_leases(tmp_path: Path) -> None:
    store = Store(tmp_path / "verse.sqlite3")
    try:
        assert store.keep_leases() == 0
    finally:
        store.close()


class _CountingStore(Store):
    """A real SQLite store whose lease hook counts its calls and fails the first one."""

    def __init__(self, path: Path, enough: int) -> None:
        super().__init__(path)
        self.calls = 0
        self.enough = enough
        self.reached = asyncio.Event()

    def keep_leases(self) -> int:
        self.calls += 1
        if self.calls >= self.enough:
            self.reached.set()
        if self.calls == 1:
            raise psycopg.OperationalError("the database went away for a moment")
        return 0


def test_the_timer_renews_until_stopped_and_outlives_a_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> int:
        store = _CountingStore(tmp_path / "verse.sqlite3", enough=3)
        try:
            async with leases_kept(store, lease_s=0.03):
                await asyncio.wait_for(store.reached.wait(), timeout=20)
            stopped_at = store.calls
            # Stopped means no task left behind to call it again.
            assert asyncio.all_tasks() == {asyncio.current_task()}
            return stopped_at
        finally:
            store.close()

    with caplog.at_level(logging.ERROR, logger="verse_backend.stream_leases"):
        assert asyncio.run(scenario()) >= 3
    assert "could not renew the stream lease" in caplog.text
