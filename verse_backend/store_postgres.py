"""The same store on PostgreSQL (psycopg 3), for several replicas sharing one database.

Schema changes are numbered migrations recorded in `schema_migrations`, applied under an
advisory lock at open, so replicas starting together migrate once. Answers are leased to the
replica streaming them, so those of a replica that died are marked "interrupted" by the others.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, LiteralString, TypeVar

import psycopg

from verse_backend import store as base
from verse_backend.settings import DEFAULT_STREAM_LEASE_S
from verse_backend.store import (
    Conversation,
    Insight,
    MessageStatus,
    Store,
    StoredMessage,
    StoreUnavailable,
)

logger = logging.getLogger(__name__)

# Append only: a released migration never changes, a new one gets the next number.
MIGRATIONS: tuple[LiteralString, ...] = (
    """
    CREATE TABLE insights (id BIGINT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL);
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        insight_id BIGINT REFERENCES insights(id),
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE messages (
        id BIGSERIAL PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL,
        stop_reason TEXT,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        password_fp TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX sessions_by_age ON sessions (created_at);
    """,
    # Stream leases: one heartbeat row per replica, renewed on a timer, and the owner of each
    # answer set once by the INSERT that starts it. A heartbeat on each streaming message
    # instead would rewrite every open answer's row each period; this is one row a replica.
    # The partial index keeps the reap a lookup of the few answers streaming now.
    """
    CREATE TABLE replicas (id TEXT PRIMARY KEY, heartbeat TIMESTAMPTZ NOT NULL);
    ALTER TABLE messages ADD COLUMN owner TEXT;
    CREATE INDEX messages_streaming ON messages (owner) WHERE status = 'streaming';
    """,
)
# Any constant works: it only has to be the same for every replica of this app.
_MIGRATION_LOCK = 0x7665727365

# The store is called on the event loop, so each round trip to the database is a pause for
# every open stream (bench/postgres_round_trips.py). A turn's start is therefore one statement,
# atomic on its own: the conversation (if new), the user's message, the answer, and the
# history before this turn (the statement's snapshot) with the new message after it. The answer
# is inserted from the question's row, so it is inserted after it and gets the larger id. Six
# round trips before (BEGIN, four statements, COMMIT).
_START_TURN: LiteralString = """
WITH conversation AS (
    INSERT INTO conversations (id, session_id, insight_id, created_at)
    VALUES (%(conversation)s, %(session)s, %(insight)s, %(now)s) ON CONFLICT DO NOTHING
), question AS (
    INSERT INTO messages (conversation_id, role, content, status, created_at)
    VALUES (%(conversation)s, 'user', %(text)s, 'complete', %(now)s) RETURNING id
), answer AS (
    INSERT INTO messages (conversation_id, role, content, status, created_at, owner)
    SELECT %(conversation)s, 'assistant', '', 'streaming', %(now)s, %(owner)s FROM question
    RETURNING id
)
SELECT 0 AS part, id, role, content, status, stop_reason, created_at
FROM messages WHERE conversation_id = %(conversation)s
UNION ALL SELECT 1, id, 'user', %(text)s, 'complete', NULL, %(now)s FROM question
UNION ALL SELECT 2, id, NULL, NULL, NULL, NULL, NULL FROM answer
ORDER BY part, id
"""
# Every answer's pending text in one statement (one round trip; executemany in a transaction
# took nine for 500 answers, and 500 statements on the server).
_APPEND_ANSWERS: LiteralString = """
UPDATE messages SET content = messages.content || pending.text
FROM unnest(%s::bigint[], %s::text[]) AS pending(id, text)
WHERE messages.id = pending.id
"""


# One statement a period: renew this replica's heartbeat, mark interrupted the streaming
# answers whose owner has no live lease (none at all: a replica that stopped, or an answer from
# before leases existed), and forget expired replicas. Every time is the database's `now()`:
# two machines' clocks differ, the database's is the one both see. The statement's snapshot
# predates its own heartbeat, so this replica's answers are left out of the reap explicitly.
_KEEP_LEASES: LiteralString = """
WITH beat AS (
    INSERT INTO replicas (id, heartbeat) VALUES (%(me)s, now())
    ON CONFLICT (id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat
), reaped AS (
    UPDATE messages SET status = 'interrupted'
    WHERE status = 'streaming' AND owner IS DISTINCT FROM %(me)s
    AND NOT EXISTS (
        SELECT 1 FROM replicas
        WHERE replicas.id = messages.owner
        AND replicas.heartbeat > now() - make_interval(secs => %(lease)s)
    )
    RETURNING 1
), forgotten AS (
    DELETE FROM replicas
    WHERE id <> %(me)s AND heartbeat <= now() - make_interval(secs => %(lease)s)
)
SELECT COUNT(*) FROM reaped
"""
# A clean stop: this replica's answers still streaming end now, and its lease goes.
_DROP_LEASE: LiteralString = """
WITH marked AS (
    UPDATE messages SET status = 'interrupted' WHERE status = 'streaming' AND owner = %(me)s
)
DELETE FROM replicas WHERE id = %(me)s
"""

Params = tuple[object, ...] | Mapping[str, object]
DB = psycopg.Connection[tuple[Any, ...]]
T = TypeVar("T")

# The store is called from the event loop, so a connect blocks every request: a server that
# does not answer costs at most this long...
CONNECT_TIMEOUT_S = 3
# ...and after a failed attempt, calls fail at once for this long instead of each blocking
# the loop again on a server that is still down.
RECONNECT_PAUSE_S = 1.0


def migrate(db: DB) -> int:
    """Apply the migrations this database lacks; return its schema version."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        row = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        current = int(row[0]) if row else 0
        for version, script in enumerate(MIGRATIONS, start=1):
            if version > current:
                db.execute(script)
                db.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (%s, %s)",
                    (version, time.time()),
                )
    return len(MIGRATIONS)


class _Link:
    """The one connection, reopened by the first call after it broke; callers hold the
    store's lock."""

    def __init__(self, url: str, application_name: str, pause_s: float) -> None:
        self._url = url
        self._application_name = application_name
        self._pause_s = pause_s
        self._db: DB | None = None
        self._paused_until = 0.0
        self._last_error = ""
        self._shut = False

    def connect(self) -> DB:
        """A new connection; psycopg's error as it is (the caller decides what it means)."""
        self._db = psycopg.connect(
            self._url,
            autocommit=True,
            application_name=self._application_name,
            connect_timeout=CONNECT_TIMEOUT_S,
        )
        return self._db

    def current(self) -> DB:
        """The open connection, or a new one; StoreUnavailable when none can be had now."""
        opened = self.opened()
        if opened is not None:
            return opened
        if self._shut:
            raise StoreUnavailable("StoreClosed")
        if time.monotonic() < self._paused_until:
            raise StoreUnavailable(self._last_error)
        try:
            db = self.connect()
        except psycopg.Error as error:
            self._last_error = type(error).__name__
            self._paused_until = time.monotonic() + self._pause_s
            # No warning: the loss was logged once already, this is the same outage.
            logger.debug("could not reconnect to the database: %s", self._last_error)
            raise StoreUnavailable(self._last_error) from None
        logger.info("reconnected to the database")
        return db

    def opened(self) -> DB | None:
        """The connection if it is open, without reconnecting."""
        return self._db if self._db is not None and not self._db.closed else None

    def close(self) -> None:
        """For good: a call after the store closed must not open a connection nobody closes."""
        self._shut = True
        if self._db is not None:
            self._db.close()

    def lost(self, db: DB, error: psycopg.Error) -> StoreUnavailable:
        """Log a connection that broke under a call (once: the next call reconnects)."""
        self._last_error = type(error).__name__
        logger.warning("lost the database connection: %s", self._last_error)
        db.close()
        return StoreUnavailable(self._last_error)


class PostgresStore(Store):
    """Store's interface on one psycopg connection (autocommit, guarded by a lock), for one
    replica with its own random id (not the hostname: two containers may share one).

    Unlike SQLite, answers left "streaming" are not marked interrupted at open: another
    replica may be writing them. Each answer belongs to the replica that started it, and is
    marked once that replica's lease is older than `lease_s` (`keep_leases`, also run here at
    open); until then the model's context leaves it out.

    A connection that breaks (server restarted, failover, killed by a proxy) is reopened by
    the next call, with the same replica id, so the lease goes on. Calls that failed on it
    raise StoreUnavailable; only reads and idempotent writes are retried on the new one.
    """

    def __init__(
        self,
        url: str,
        *,
        lease_s: float = DEFAULT_STREAM_LEASE_S,
        reconnect_pause_s: float = RECONNECT_PAUSE_S,
    ) -> None:
        self.replica_id = secrets.token_hex(8)
        self._lease_s = lease_s
        self._lock = threading.Lock()
        self._link = _Link(url, f"verse-backend {self.replica_id}", reconnect_pause_s)
        # At open, psycopg's own error: a wrong URL or a server down must say which at start.
        db = self._link.connect()
        migrate(db)
        db.execute(
            "INSERT INTO insights (id, title, body) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (base.DEMO_INSIGHT_ID, base.DEMO_INSIGHT_TITLE, base.DEMO_INSIGHT_BODY),
        )
        # The lease exists before this replica's first answer, and dead ones are reaped now.
        self.keep_leases()

    def close(self) -> None:
        """Drop this replica's lease (so no other replica waits for it to expire), then close.
        On the connection there is: no reconnect to a server that may be down at shutdown."""
        with self._lock:
            db = self._link.opened()
            if db is None:
                logger.warning("could not drop the stream lease: the connection is lost")
                self._link.close()
                return
            try:
                db.execute(_DROP_LEASE, {"me": self.replica_id})
            except psycopg.Error as error:  # the connection is gone: the lease expires instead
                logger.warning("could not drop the stream lease: %s", type(error).__name__)
            finally:
                self._link.close()

    def _call(self, work: Callable[[DB], T], *, retry: bool) -> T:
        """`work` on the connection. When the connection breaks under it: with `retry` (reads,
        idempotent writes) once more on a new one; else StoreUnavailable, since the server
        may have applied a write before the connection died and a retry could apply it twice
        (`content || text` would double the text). The next call reconnects either way."""
        with self._lock:
            db = self._link.current()
            try:
                return work(db)
            except psycopg.OperationalError as error:
                if not db.closed:  # the statement failed, the connection is fine: not ours
                    raise
                unavailable = self._link.lost(db, error)
                if not retry:
                    raise unavailable from None
            db = self._link.current()
            try:
                return work(db)
            except psycopg.OperationalError as error:
                if not db.closed:
                    raise
                raise self._link.lost(db, error) from None

    def keep_leases(self) -> int:
        # Idempotent: the heartbeat is an upsert, a reap marks nothing twice.
        row = self._one(_KEEP_LEASES, {"me": self.replica_id, "lease": self._lease_s})
        assert row is not None  # an aggregate always gives one row
        return int(row[0])

    def _one(self, sql: LiteralString, params: Params) -> tuple[Any, ...] | None:
        """One row of an idempotent statement (retried)."""
        return self._call(lambda db: db.execute(sql, params).fetchone(), retry=True)

    def _run(self, sql: LiteralString, params: Params, *, retry: bool) -> int:
        return self._call(lambda db: db.execute(sql, params).rowcount, retry=retry)

    def insight(self, insight_id: int) -> Insight | None:
        row = self._one("SELECT id, title, body FROM insights WHERE id = %s", (insight_id,))
        return Insight(*row) if row else None

    def conversation(self, conversation_id: str) -> Conversation | None:
        row = self._one(
            "SELECT id, session_id, insight_id FROM conversations WHERE id = %s",
            (conversation_id,),
        )
        return Conversation(*row) if row else None

    def history(self, conversation_id: str) -> list[StoredMessage]:
        rows = self._call(lambda db: _history(db, conversation_id), retry=True)
        return [StoredMessage(*row) for row in rows]

    def begin_turn(self, conversation: Conversation, user_text: str) -> list[StoredMessage]:
        def work(db: DB) -> None:
            with db.transaction():
                _add_user_turn(db, conversation, user_text, time.time())

        self._call(work, retry=False)  # a second user message if the first got in
        return self.history(conversation.id)

    def start_answer(self, conversation_id: str) -> int:
        return self._call(
            lambda db: _add_answer(db, conversation_id, time.time(), self.replica_id),
            retry=False,  # a second, empty answer if the first got in
        )

    def start_turn(
        self, conversation: Conversation, user_text: str
    ) -> tuple[list[StoredMessage], int]:
        now = time.time()
        params = {
            "conversation": conversation.id,
            "session": conversation.session_id,
            "insight": conversation.insight_id,
            "text": user_text,
            "now": now,
            "owner": self.replica_id,
        }
        rows = self._call(
            lambda db: db.execute(_START_TURN, params).fetchall(),
            retry=False,  # as in begin_turn and start_answer
        )
        *history, answer = rows
        return [StoredMessage(*row[2:]) for row in history], int(answer[1])

    def append_answers(self, texts: Mapping[int, str]) -> None:
        self._call(
            lambda db: db.execute(_APPEND_ANSWERS, (list(texts), list(texts.values()))),
            retry=False,  # `content || text` twice is the text twice
        )

    def finish_answer(
        self, answer_id: int, status: MessageStatus, stop_reason: str | None = None, text: str = ""
    ) -> None:
        self._run(
            "UPDATE messages SET content = content || %s, status = %s, stop_reason = %s "
            "WHERE id = %s",
            (text, status, stop_reason, answer_id),
            retry=False,  # appends its text, as append_answers does
        )

    def answer(self, answer_id: int) -> StoredMessage | None:
        row = self._one(
            "SELECT role, content, status, stop_reason, created_at FROM messages WHERE id = %s",
            (answer_id,),
        )
        return StoredMessage(*row) if row else None

    def add_session(
        self, session_id: str, password_fp: str, created_at: float, expires_at: float
    ) -> None:
        def work(db: DB) -> None:
            with db.transaction():
                db.execute(
                    "INSERT INTO sessions (id, password_fp, created_at, expires_at) "
                    "VALUES (%s, %s, %s, %s)",
                    (session_id, password_fp, created_at, expires_at),
                )
                db.execute(
                    "DELETE FROM sessions WHERE created_at < (SELECT created_at FROM sessions "
                    "ORDER BY created_at DESC LIMIT 1 OFFSET %s)",
                    (base.MAX_SESSIONS - 1,),
                )

        self._call(work, retry=False)  # a retry of an INSERT that got in fails on its key

    def session_valid(self, session_id: str, password_fp: str, now: float) -> bool:
        row = self._one(
            "SELECT 1 FROM sessions WHERE id = %s AND password_fp = %s AND expires_at > %s",
            (session_id, password_fp, now),
        )
        return row is not None

    def delete_session(self, session_id: str) -> None:
        # Idempotent, like purge_sessions: deleting what is gone deletes nothing.
        self._run("DELETE FROM sessions WHERE id = %s", (session_id,), retry=True)

    def purge_sessions(self, password_fp: str, now: float) -> int:
        return self._run(
            "DELETE FROM sessions WHERE password_fp != %s OR expires_at <= %s",
            (password_fp, now),
            retry=True,
        )

    def session_count(self) -> int:
        row = self._one("SELECT COUNT(*) FROM sessions", ())
        assert row is not None
        return int(row[0])


def _history(db: DB, conversation_id: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT role, content, status, stop_reason, created_at FROM messages "
        "WHERE conversation_id = %s ORDER BY id",
        (conversation_id,),
    ).fetchall()


def _add_user_turn(db: DB, conversation: Conversation, user_text: str, now: float) -> None:
    db.execute(
        "INSERT INTO conversations (id, session_id, insight_id, created_at) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (conversation.id, conversation.session_id, conversation.insight_id, now),
    )
    db.execute(
        "INSERT INTO messages (conversation_id, role, content, status, created_at) "
        "VALUES (%s, 'user', %s, 'complete', %s)",
        (conversation.id, user_text, now),
    )


def _add_answer(db: DB, conversation_id: str, now: float, owner: str) -> int:
    row = db.execute(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, owner) "
        "VALUES (%s, 'assistant', '', 'streaming', %s, %s) RETURNING id",
        (conversation_id, now, owner),
    ).fetchone()
    assert row is not None  # RETURNING always gives the row
    return int(row[0])
