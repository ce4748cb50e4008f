"""PostgresStore after its connection broke, on a real PostgreSQL: killed by the server
(`pg_terminate_backend`), the server stopped and started again, a proxy that goes silent.
Reads are retried on a new connection, writes raise StoreUnavailable and are never applied
twice, the lease stays this replica's; and the HTTP side answers 503."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
import pytest

from tests.backend.sse_client import chat_body, iter_events, new_client, read_stream
from tests.support.backend_server import BackendProcess, running_backend
from tests.support.postgres import PostgresServer, running_postgres, server_stopped
from tests.support.thread_server import listening_socket, serving_in_thread
from tests.support.waiting import wait_until
from verse_backend.store import Conversation, StoreUnavailable
from verse_backend.store_postgres import CONNECT_TIMEOUT_S, PostgresStore

DB = psycopg.Connection[tuple[Any, ...]]
T = TypeVar("T")
LEASE_S = 1.5
# Generous: the bound is CONNECT_TIMEOUT_S, this machine is shared.
QUICK_S = 10.0
LOGGER = "verse_backend.store_postgres"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this module's own, to stop and start (the session's is shared)."""
    with running_postgres() as server:
        yield server


@contextmanager
def opened(url: str, **options: Any) -> Iterator[PostgresStore]:
    store = PostgresStore(url, **options)
    try:
        yield store
    finally:
        store.close()


def _app_name(store: PostgresStore) -> str:
    return f"verse-backend {store.replica_id}"


def _backends(db: DB, store: PostgresStore) -> int:
    return _count(db, _app_name(store))


# The backends of this database whose application_name is LIKE the parameter.
_BACKENDS_NAMED = (
    "FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE %s"
)


def _count(db: DB, name_like: str) -> int:
    row = db.execute("SELECT COUNT(*) " + _BACKENDS_NAMED, (name_like,)).fetchone()
    assert row is not None
    return int(row[0])


def _kill(db: DB, store: PostgresStore) -> None:
    _kill_named(db, _app_name(store))


def _kill_named(db: DB, name_like: str) -> None:
    query = "SELECT COUNT(pg_terminate_backend(pid)) " + _BACKENDS_NAMED
    assert db.execute(query, (name_like,)).fetchone() == (1,)
    # Terminating is asynchronous: gone from the server's view means gone for the store too.
    wait_until(lambda: _count(db, name_like) == 0, 20, "the store's backend to exit")


def _streaming_answer(store: PostgresStore, text: str, conversation_id: str = "c1") -> int:
    store.begin_turn(Conversation(conversation_id, "s1", None), "hello")
    answer_id = store.start_answer(conversation_id)
    store.append_answer(answer_id, text)
    return answer_id


def _content(db: DB, answer_id: int) -> tuple[str, str]:
    row = db.execute("SELECT status, content FROM messages WHERE id = %s", (answer_id,)).fetchone()
    assert row is not None
    return row[0], row[1]


def _records(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_a_read_after_a_kill_is_retried_on_a_new_connection(
    db_url: str, db: DB, caplog: pytest.LogCaptureFixture
) -> None:
    with opened(db_url) as store:
        answer_id = _streaming_answer(store, "partial")
        _kill(db, store)
        with caplog.at_level(logging.INFO, logger=LOGGER):
            answer = store.answer(answer_id)
            assert answer is not None and answer.content == "partial"
            assert [m.content for m in store.history("c1")] == ["hello", "partial"]
        assert _backends(db, store) == 1  # the new one, under the same name
        # One line for the loss, one for the recovery: no traceback, no URL.
        assert _records(caplog) == [
            (logging.WARNING, "lost the database connection: AdminShutdown"),
            (logging.INFO, "reconnected to the database"),
        ]
        assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "write",
    [
        lambda store, answer_id: store.append_answers({answer_id: " lost"}),
        lambda store, answer_id: store.finish_answer(answer_id, "complete", "end_turn", " lost"),
        lambda store, answer_id: store.start_answer("c1"),
        lambda store, answer_id: store.begin_turn(Conversation("c1", "s1", None), "again"),
    ],
    ids=["append_answers", "finish_answer", "start_answer", "begin_turn"],
)
def test_a_write_after_a_kill_raises_and_the_next_one_works(
    db_url: str, db: DB, write: Callable[[PostgresStore, int], object]
) -> None:
    with opened(db_url) as store:
        answer_id = _streaming_answer(store, "kept")
        _kill(db, store)
        with pytest.raises(StoreUnavailable) as raised:
            write(store, answer_id)
        assert str(raised.value) == "database unavailable (AdminShutdown)"
        assert raised.value.__cause__ is None and raised.value.__suppress_context__
        store.append_answers({answer_id: " more"})  # reconnected
        assert _content(db, answer_id) == ("streaming", "kept more")
        count = db.execute("SELECT COUNT(*) FROM messages").fetchone()
        assert count == (2,)  # no second turn or answer either


def _in_thread(work: Callable[[], T]) -> tuple[threading.Thread, list[T | BaseException]]:
    outcome: list[T | BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:  # handed to the test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def _waiting_on_a_lock(db: DB, store: PostgresStore) -> bool:
    row = db.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = %s "
        "AND wait_event_type = 'Lock'",
        (_app_name(store),),
    ).fetchone()
    return row == (1,)


def test_an_append_killed_while_it_runs_is_not_applied_and_not_written_twice(
    db_url: str, db: DB, postgres: PostgresServer
) -> None:
    with opened(db_url) as store, psycopg.connect(db_url) as blocker:
        answer_id = _streaming_answer(store, "one")
        # The test holds the row, so the store's UPDATE is inside the server when it is killed.
        blocker.execute("SELECT 1 FROM messages WHERE id = %s FOR UPDATE", (answer_id,))
        thread, outcome = _in_thread(lambda: store.append_answers({answer_id: " two"}))
        wait_until(lambda: _waiting_on_a_lock(db, store), 20, "the append to wait on the row")
        _kill(db, store)
        blocker.rollback()
        thread.join(20)
        assert len(outcome) == 1 and isinstance(outcome[0], StoreUnavailable)
        store.append_answers({answer_id: " three"})  # what the answer writer does next
        assert _content(db, answer_id) == ("streaming", "one three")


def test_keep_leases_after_reconnects_renews_the_same_replicas_lease(db_url: str, db: DB) -> None:
    def db_now() -> datetime:
        row = db.execute("SELECT now()").fetchone()
        assert row is not None
        value: datetime = row[0]
        return value

    with opened(db_url, lease_s=LEASE_S) as a, opened(db_url, lease_s=LEASE_S) as b:
        answer_id = _streaming_answer(a, "still writing")
        start = db_now()
        kills = 0

        def outlived_two_leases() -> bool:
            nonlocal kills
            _kill(db, a)  # before every renewal: each one runs on a new connection
            kills += 1
            a.keep_leases()
            assert b.keep_leases() == 0
            assert _content(db, answer_id) == ("streaming", "still writing")
            return db_now() > start + timedelta(seconds=2 * LEASE_S)

        wait_until(outlived_two_leases, 2 * LEASE_S + 30, "two leases of DB time to pass")
        assert kills >= 2
        rows = db.execute("SELECT id FROM replicas ORDER BY id").fetchall()
        assert sorted(rows) == sorted([(a.replica_id,), (b.replica_id,)])
        a.finish_answer(answer_id, "complete")
        assert _content(db, answer_id) == ("complete", "still writing")


def test_a_stopped_server_fails_calls_quickly_and_the_store_recovers_once_it_is_back(
    own_postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_postgres.new_database()
    with opened(url) as store, caplog.at_level(logging.INFO, logger=LOGGER):
        answer_id = _streaming_answer(store, "before")
        with server_stopped(own_postgres):
            for call in (lambda: store.answer(answer_id), store.keep_leases):
                start = time.monotonic()
                with pytest.raises(StoreUnavailable):
                    call()
                elapsed = time.monotonic() - start
                assert elapsed < QUICK_S, elapsed

        def answered() -> bool:
            try:
                return store.answer(answer_id) is not None
            except StoreUnavailable:  # within the pause after a failed attempt
                return False

        wait_until(answered, 30, "the store to reconnect to the restarted server")
        store.append_answers({answer_id: " after"})
        found = store.answer(answer_id)
        assert found is not None and found.content == "before after"
    levels = [level for level, _ in _records(caplog)]
    assert levels.count(logging.WARNING) == 1 and levels.count(logging.INFO) == 1
    assert url not in caplog.text


class SilentProxy:
    """A TCP proxy to the server's unix socket that can go silent: it then accepts
    connections and never answers (a black-holed route), counting them."""

    def __init__(self, server: PostgresServer) -> None:
        self._target = str(server.socket_dir / ".s.PGSQL.5432")
        self.silent = False
        self.silent_connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.silent:
            self.silent_connections += 1
            try:
                await reader.read()  # until the client gives up
            finally:
                await _closed(writer)
            return
        up_reader, up_writer = await asyncio.open_unix_connection(self._target)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while chunk := await source.read(65536):
                    sink.write(chunk)
                    await sink.drain()
            finally:
                await _closed(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _closed(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


def test_a_silent_server_costs_one_connect_timeout_then_calls_fail_without_trying(
    db_url: str, db: DB, postgres: PostgresServer
) -> None:
    proxy = SilentProxy(postgres)
    sock = listening_socket()
    port = sock.getsockname()[1]
    database = db_url.split("@/", 1)[1].split("?", 1)[0]
    url = f"postgresql://verse:not-a-real-secret@127.0.0.1:{port}/{database}"
    with serving_in_thread(sock, proxy.handle), opened(url, reconnect_pause_s=3600) as store:
        answer_id = _streaming_answer(store, "x")
        proxy.silent = True
        _kill(db, store)
        start = time.monotonic()
        with pytest.raises(StoreUnavailable) as raised:
            store.answer(answer_id)
        elapsed = time.monotonic() - start
        assert CONNECT_TIMEOUT_S * 0.9 < elapsed < QUICK_S, elapsed
        assert "secret" not in str(raised.value) and str(port) not in str(raised.value)
        attempts = proxy.silent_connections
        assert attempts >= 1
        for call in (lambda: store.answer(answer_id), store.keep_leases):
            start = time.monotonic()
            with pytest.raises(StoreUnavailable):
                call()
            assert time.monotonic() - start < QUICK_S
        assert proxy.silent_connections == attempts


def _backend_env(database_url: str) -> dict[str, str]:
    return {
        "VERSE_DATABASE_URL": database_url,
        "VERSE_SECRET_KEY": "r" * 40,
        "VERSE_SIM_TOKEN_MS": "1",
    }


def _log(handle: BackendProcess) -> str:
    assert handle.log_path is not None
    return handle.log_path.read_text(errors="replace")


def test_e2e_a_chat_after_the_backends_connection_was_killed_succeeds(
    tmp_path: Path, db_url: str, db: DB
) -> None:
    handle = BackendProcess()
    with (
        running_backend(
            tmp_path, _backend_env(db_url), entry="verse-backend", handle=handle
        ) as url,
        new_client(url) as client,
    ):
        _kill_named(db, "verse-backend %")
        result = read_stream(client)
        assert result.status == 200 and result.named("done"), result.body
        conversation_id = result.named("done")[0].json()["conversation_id"]
        history = client.get(f"/api/chat/conversations/{conversation_id}").json()
        assert [m["status"] for m in history["messages"]] == ["complete", "complete"]
        assert history["messages"][1]["content"] == result.text
    log = _log(handle)
    assert log.count("lost the database connection: AdminShutdown") == 1
    assert log.count("reconnected to the database") == 1
    assert "Traceback" not in log and db_url not in log


def test_e2e_requests_against_a_stopped_database_get_a_503_then_work_again(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    database_url = own_postgres.new_database()
    handle = BackendProcess()
    env = _backend_env(database_url)
    with (
        running_backend(tmp_path, env, entry="verse-backend", handle=handle) as url,
        new_client(url) as client,
    ):
        path = "/api/chat/conversations/no-such-conversation"
        assert client.get(path).status_code == 404
        with server_stopped(own_postgres):
            requests: tuple[Callable[[], httpx.Response], ...] = (
                lambda: client.get(path),  # the session check
                lambda: client.post("/api/chat/message", json=chat_body()),
                lambda: client.post("/api/session", json={}),  # a new session's INSERT
            )
            for request in requests:
                start = time.monotonic()
                response = request()
                assert time.monotonic() - start < QUICK_S
                assert response.status_code == 503, response.text
                assert response.json() == {"detail": "database unavailable"}
                assert response.headers["retry-after"] == "1"
        wait_until(lambda: client.get(path).status_code == 404, 30, "the backend to reconnect")
        result = read_stream(client)
        assert result.status == 200 and result.named("done"), result.body
    log = _log(handle)
    assert log.count("reconnected to the database") == 1
    assert database_url not in log


def test_a_closed_store_does_not_reconnect(db_url: str, db: DB) -> None:
    store = PostgresStore(db_url)
    store.close()
    with pytest.raises(StoreUnavailable, match="StoreClosed"):
        store.session_count()
    assert _backends(db, store) == 0


def test_e2e_a_stream_outlives_a_database_outage_and_its_answer_is_stored_after(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    handle = BackendProcess()
    # Slow enough that the database is down before the answer ends (pg_ctl's stop is quick).
    env = {**_backend_env(own_postgres.new_database()), "VERSE_SIM_TOKEN_MS": "150"}
    with (
        running_backend(tmp_path, env, entry="verse-backend", handle=handle) as url,
        new_client(url) as client,
    ):
        tokens: list[str] = []
        names: list[str] = []
        with client.stream("POST", "/api/chat/message", json=chat_body()) as response:
            assert response.status_code == 200
            events = iter_events(response)
            for event in events:
                names.append(str(event.event))
                if event.event == "token":
                    tokens.append(event.json()["text"])
                if len(tokens) == 3:
                    break
            with server_stopped(own_postgres):
                for event in events:
                    names.append(str(event.event))
                    if event.event == "token":
                        tokens.append(event.json()["text"])
                    if event.event == "done":
                        conversation_id = event.json()["conversation_id"]
        assert names[-1] == "done" and "error" not in names, names
        path = f"/api/chat/conversations/{conversation_id}"
        wait_until(lambda: client.get(path).status_code == 200, 30, "the backend to reconnect")
        wait_until(
            lambda: client.get(path).json()["messages"][1]["status"] == "complete",
            30,
            "the kept end of the answer to be stored",
        )
        answer = client.get(path).json()["messages"][1]
        assert answer["content"] == "".join(tokens)
    log = _log(handle)
    assert log.count("streamed text is kept until it can be stored") == 1, log
    assert log.count("streamed text kept during the outage is stored") == 1, log
    assert "Traceback" not in log
