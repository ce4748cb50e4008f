"""Conversations, messages, insights and session records in SQLite (stdlib sqlite3, WAL), so restarts lose nothing.

Calls are short single transactions; they run on the event loop thread on purpose (tens of
microseconds with WAL and synchronous=NORMAL), which also lets a stream store each token before
it sends it, and its `finally` mark an answer interrupted without awaiting while cancelled.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from verse_backend.providers.base import ChatMessage, Role

# "streaming": an answer being written now. One left over from a killed process is marked
# "interrupted": on SQLite when the store opens (one process owns the file), on PostgreSQL
# when its replica's lease expires (`keep_leases`).
MessageStatus = Literal["streaming", "complete", "interrupted", "failed"]

# How many earlier messages go to the model as context: keeps prompts (and cost) bounded.
MAX_CONTEXT_MESSAGES = 40

DEMO_INSIGHT_ID = 1
DEMO_INSIGHT_TITLE = "Streaming answers need every hop to pass bytes on at once"
DEMO_INSIGHT_BODY = (
    "A chat answer streamed over Server-Sent Events reaches the reader token by token only if "
    "every hop between the model and the browser forwards bytes as they come: the backend, any "
    "reverse proxy such as nginx, and any CDN. One buffering hop turns a live answer into a "
    "long wait followed by a wall of text."
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS insights (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    insight_id INTEGER REFERENCES insights(id),
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    password_fp TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_age ON sessions (created_at);
"""

# Session records kept at most; past it the oldest go (their users log in again). Without a
# password anyone may create sessions, and the table must not grow without bound.
MAX_SESSIONS = 10_000


@dataclass(frozen=True)
class Insight:
    id: int
    title: str
    body: str


@dataclass(frozen=True)
class Conversation:
    id: str
    session_id: str
    insight_id: int | None


@dataclass(frozen=True)
class StoredMessage:
    role: str
    content: str
    status: str
    stop_reason: str | None
    created_at: float


def new_conversation_id() -> str:
    return uuid.uuid4().hex


def model_context(history: list[StoredMessage]) -> list[ChatMessage]:
    """The model's view of a conversation: failed or empty answers dropped, and the user turns
    around them merged, because the API wants user and assistant to alternate."""
    context: list[ChatMessage] = []
    for message in history:
        if message.role == "assistant" and (
            message.status in ("failed", "streaming") or not message.content
        ):
            continue
        role: Role = "assistant" if message.role == "assistant" else "user"
        if context and context[-1].role == role:
            context[-1] = ChatMessage(role, f"{context[-1].content}\n\n{message.content}")
        else:
            context.append(ChatMessage(role, message.content))
    context = context[-MAX_CONTEXT_MESSAGES:]
    while context and context[0].role != "user":  # the API wants a user turn first
        context.pop(0)
    return context


class StoreUnavailable(Exception):
    """The database cannot be reached now (its connection was lost, its server is down): the
    call may work again later. Carries only the underlying error's class name, since its text
    may name the database's host or user and the URL may hold a password."""

    def __init__(self, cause: str) -> None:
        super().__init__(f"database unavailable ({cause})")
        self.cause = cause


# SQLite's primary result codes for a write that may work later (extended codes carry these in
# their low byte): SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL.
_TRANSIENT_ERRORS = frozenset({5, 6, 10, 13})


class Store:
    """One connection shared by the app, guarded by a lock (sync dependencies run in threads)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        # In WAL mode NORMAL loses no commit when the process dies (only on power loss), and
        # skips the fsync per commit that a write per streamed token cannot afford.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
            self._db.execute(
                "INSERT OR IGNORE INTO insights (id, title, body) VALUES (?, ?, ?)",
                (DEMO_INSIGHT_ID, DEMO_INSIGHT_TITLE, DEMO_INSIGHT_BODY),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The lock and one transaction. A database that cannot take the write now (the disk
        is full, an I/O error, locked past busy_timeout) raises StoreUnavailable, as a
        PostgreSQL outage does: the answer writer then keeps the streamed text until it can,
        and a request gets 503. A full SD card on a Pi is the common case."""
        try:
            with self._lock, self._db:
                yield
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in _TRANSIENT_ERRORS:
                raise
            if self._db.in_transaction:  # a failed COMMIT can leave it open
                self._db.rollback()
            raise StoreUnavailable(error.sqlite_errorname) from None

    def keep_leases(self) -> int:
        """Renew this replica's lease on the answers it streams, and mark "interrupted" those
        whose replica's lease expired; return how many were marked. Called on a timer
        (stream_leases.py). Nothing to do on SQLite: the one process that owns the file marked
        every answer left streaming when it opened it."""
        return 0

    def insight(self, insight_id: int) -> Insight | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, title, body FROM insights WHERE id = ?", (insight_id,)
            ).fetchone()
        return Insight(*row) if row else None

    def conversation(self, conversation_id: str) -> Conversation | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, session_id, insight_id FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
        return Conversation(*row) if row else None

    def history(self, conversation_id: str) -> list[StoredMessage]:
        with self._lock:
            return self._history(conversation_id)

    def _history(self, conversation_id: str) -> list[StoredMessage]:
        rows = self._db.execute(
            "SELECT role, content, status, stop_reason, created_at FROM messages "
            "WHERE conversation_id = ? ORDER BY id",
            (conversation_id,),
        ).fetchall()
        return [StoredMessage(*row) for row in rows]

    def begin_turn(self, conversation: Conversation, user_text: str) -> list[StoredMessage]:
        """Create the conversation if new, add the user's message; return the whole history."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._add_user_turn(conversation, user_text, time.time())
            return self._history(conversation.id)

    def start_answer(self, conversation_id: str) -> int:
        """An empty assistant message with status "streaming"; returns its id."""
        with self._writing():
            return self._add_answer(conversation_id, time.time())

    def start_turn(
        self, conversation: Conversation, user_text: str
    ) -> tuple[list[StoredMessage], int]:
        """`begin_turn` then `start_answer` in one transaction (one commit a chat request, not
        two): the history up to the user's message, and the new answer's id."""
        now = time.time()
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._add_user_turn(conversation, user_text, now)
            history = self._history(conversation.id)
            return history, self._add_answer(conversation.id, now)

    def _add_user_turn(self, conversation: Conversation, user_text: str, now: float) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO conversations (id, session_id, insight_id, created_at) "
            "VALUES (?, ?, ?, ?)",
            (conversation.id, conversation.session_id, conversation.insight_id, now),
        )
        self._db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at) "
            "VALUES (?, 'user', ?, 'complete', ?)",
            (conversation.id, user_text, now),
        )

    def _add_answer(self, conversation_id: str, now: float) -> int:
        cursor = self._db.execute(
            "INSERT INTO messages (conversation_id, role, content, status, created_at) "
            "VALUES (?, 'assistant', '', 'streaming', ?)",
            (conversation_id, now),
        )
        answer_id = cursor.lastrowid
        assert answer_id is not None  # an INSERT always sets it
        return answer_id

    def append_answer(self, answer_id: int, text: str) -> None:
        """Add streamed text to an answer (called before that text goes to the client)."""
        self.append_answers({answer_id: text})

    def append_answers(self, texts: Mapping[int, str]) -> None:
        """Add streamed text to several answers in one transaction (answer_writer.py's batch)."""
        with self._writing():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "UPDATE messages SET content = content || ? WHERE id = ?",
                [(text, answer_id) for answer_id, text in texts.items()],
            )

    def finish_answer(
        self, answer_id: int, status: MessageStatus, stop_reason: str | None = None, text: str = ""
    ) -> None:
        """Set the answer's end, after appending `text` (its last tokens) in the same statement."""
        with self._writing():
            self._db.execute(
                "UPDATE messages SET content = content || ?, status = ?, stop_reason = ? "
                "WHERE id = ?",
                (text, status, stop_reason, answer_id),
            )

    def answer(self, answer_id: int) -> StoredMessage | None:
        with self._lock:
            row = self._db.execute(
                "SELECT role, content, status, stop_reason, created_at FROM messages WHERE id = ?",
                (answer_id,),
            ).fetchone()
        return StoredMessage(*row) if row else None

    def add_session(
        self, session_id: str, password_fp: str, created_at: float, expires_at: float
    ) -> None:
        with self._writing():
            self._db.execute(
                "INSERT INTO sessions (id, password_fp, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (session_id, password_fp, created_at, expires_at),
            )
            self._db.execute(
                "DELETE FROM sessions WHERE created_at < "
                "(SELECT created_at FROM sessions ORDER BY created_at DESC LIMIT 1 OFFSET ?)",
                (MAX_SESSIONS - 1,),
            )

    def session_valid(self, session_id: str, password_fp: str, now: float) -> bool:
        """The session exists, has not expired and was issued under the current password."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sessions WHERE id = ? AND password_fp = ? AND expires_at > ?",
                (session_id, password_fp, now),
            ).fetchone()
        return row is not None

    def delete_session(self, session_id: str) -> None:
        with self._writing():
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def purge_sessions(self, password_fp: str, now: float) -> int:
        """Delete expired sessions and those issued under another password; return how many."""
        with self._writing():
            cursor = self._db.execute(
                "DELETE FROM sessions WHERE password_fp != ? OR expires_at <= ?",
                (password_fp, now),
            )
        return cursor.rowcount

    def session_count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM sessions").fetchone()
        return int(row[0])
