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
from collections.abc import Mapping
from typing import Any, LiteralString

import psycopg

from verse_backend import store as base
from verse_backend.settings import DEFAULT_STREAM_LEASE_S
from verse_backend.store import Conversation, Insight, MessageStatus, Store, StoredMessage

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


def migrate(db: psycopg.Connection[tuple[Any, ...]]) -> int:
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


class PostgresStore(Store):
    """Store's interface on one psycopg connection (autocommit, guarded by a lock), for one
    replica with its own random id (not the hostname: two containers may share one).

    Unlike SQLite, answers left "streaming" are not marked interrupted at open: another
    replica may be writing them. Each answer belongs to the replica that started it, and is
    marked once that replica's lease is older than `lease_s` (`keep_leases`, also run here at
    open); until then the model's context leaves it out.
    """

    def __init__(self, url: str, *, lease_s: float = DEFAULT_STREAM_LEASE_S) -> None:
        self.replica_id = secrets.token_hex(8)
        self._lease_s = lease_s
        self._lock = threading.Lock()
        self._pg: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(
            url, autocommit=True, application_name=f"verse-backend {self.replica_id}"
        )
        migrate(self._pg)
        self._pg.execute(
            "INSERT INTO insights (id, title, body) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (base.DEMO_INSIGHT_ID, base.DEMO_INSIGHT_TITLE, base.DEMO_INSIGHT_BODY),
        )
        # The lease exists before this replica's first answer, and dead ones are reaped now.
        self.keep_leases()

    def close(self) -> None:
        """Drop this replica's lease (so no other replica waits for it to expire), then close."""
        with self._lock:
            try:
                self._pg.execute(_DROP_LEASE, {"me": self.replica_id})
            except psycopg.Error as error:  # the connection is gone: the lease expires instead
                logger.warning("could not drop the stream lease: %s", type(error).__name__)
            finally:
                self._pg.close()

    def keep_leases(self) -> int:
        row = self._one(_KEEP_LEASES, {"me": self.replica_id, "lease": self._lease_s})
        assert row is not None  # an aggregate always gives one row
        return int(row[0])

    def _one(self, sql: LiteralString, params: Params) -> tuple[Any, ...] | None:
        with self._lock:
            return self._pg.execute(sql, params).fetchone()

    def _run(self, sql: LiteralString, params: Params) -> int:
        with self._lock:
            return self._pg.execute(sql, params).rowcount

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
        with self._lock:
            rows = self._pg.execute(
                "SELECT role, content, status, stop_reason, created_at FROM messages "
                "WHERE conversation_id = %s ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [StoredMessage(*row) for row in rows]

    def begin_turn(self, conversation: Conversation, user_text: str) -> list[StoredMessage]:
        with self._lock, self._pg.transaction():
            self._add_user_turn(conversation, user_text, time.time())
        return self.history(conversation.id)

    def start_answer(self, conversation_id: str) -> int:
        with self._lock:
            return self._add_answer(conversation_id, time.time())

    def start_turn(
        self, conversation: Conversation, user_text: str
    ) -> tuple[list[StoredMessage], int]:
        now = time.time()
        with self._lock, self._pg.transaction():
            self._add_user_turn(conversation, user_text, now)
            rows = self._pg.execute(
                "SELECT role, content, status, stop_reason, created_at FROM messages "
                "WHERE conversation_id = %s ORDER BY id",
                (conversation.id,),
            ).fetchall()
            answer_id = self._add_answer(conversation.id, now)
        return [StoredMessage(*row) for row in rows], answer_id

    def _add_user_turn(self, conversation: Conversation, user_text: str, now: float) -> None:
        self._pg.execute(
            "INSERT INTO conversations (id, session_id, insight_id, created_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (conversation.id, conversation.session_id, conversation.insight_id, now),
        )
        self._pg.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at) "
            "VALUES (%s, 'user', %s, 'complete', %s)",
            (conversation.id, user_text, now),
        )

    def _add_answer(self, conversation_id: str, now: float) -> int:
        row = self._pg.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at, owner) "
            "VALUES (%s, 'assistant', '', 'streaming', %s, %s) RETURNING id",
            (conversation_id, now, self.replica_id),
        ).fetchone()
        assert row is not None  # RETURNING always gives the row
        return int(row[0])

    def append_answers(self, texts: Mapping[int, str]) -> None:
        with self._lock, self._pg.transaction(), self._pg.cursor() as cursor:
            cursor.executemany(
                "UPDATE messages SET content = content || %s WHERE id = %s",
                [(text, answer_id) for answer_id, text in texts.items()],
            )

    def finish_answer(
        self, answer_id: int, status: MessageStatus, stop_reason: str | None = None, text: str = ""
    ) -> None:
        self._run(
            "UPDATE messages SET content = content || %s, status = %s, stop_reason = %s "
            "WHERE id = %s",
            (text, status, stop_reason, answer_id),
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
        with self._lock, self._pg.transaction():
            self._pg.execute(
                "INSERT INTO sessions (id, password_fp, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s)",
                (session_id, password_fp, created_at, expires_at),
            )
            self._pg.execute(
                "DELETE FROM sessions WHERE created_at < (SELECT created_at FROM sessions "
                "ORDER BY created_at DESC LIMIT 1 OFFSET %s)",
                (base.MAX_SESSIONS - 1,),
            )

    def session_valid(self, session_id: str, password_fp: str, now: float) -> bool:
        row = self._one(
            "SELECT 1 FROM sessions WHERE id = %s AND password_fp = %s AND expires_at > %s",
            (session_id, password_fp, now),
        )
        return row is not None

    def delete_session(self, session_id: str) -> None:
        self._run("DELETE FROM sessions WHERE id = %s", (session_id,))

    def purge_sessions(self, password_fp: str, now: float) -> int:
        return self._run(
            "DELETE FROM sessions WHERE password_fp != %s OR expires_at <= %s", (password_fp, now)
        )

    def session_count(self) -> int:
        row = self._one("SELECT COUNT(*) FROM sessions", ())
        assert row is not None
        return int(row[0])
