"""The store on SQLite and on a real PostgreSQL (same tests, parameterized): seeded demo
insight, history across a restart, sessions, and the model's context."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import verse_backend.store as store_module
from tests.backend.conftest import FAKE_API_KEY
from tests.backend.sse_client import chat_body, new_client, read_stream
from tests.support.backend_server import FakeAnthropic, FakeScript, running_backend
from tests.support.postgres import PostgresServer
from verse_backend.providers.base import ChatMessage
from verse_backend.store import (
    DEMO_INSIGHT_ID,
    MAX_CONTEXT_MESSAGES,
    Conversation,
    Store,
    StoredMessage,
    model_context,
)
from verse_backend.store_postgres import MIGRATIONS, PostgresStore

OpenStore = Callable[[], Store]
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> OpenStore:
    """Opens the same database each call (a restart): a SQLite file or a PostgreSQL one."""
    if request.param == "sqlite":
        return lambda: Store(tmp_path / "verse.sqlite3")
    url = request.getfixturevalue("postgres").new_database()
    return lambda: PostgresStore(url)


@pytest.fixture(params=BACKENDS)
def db_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The backend's environment for either database (replicas share VERSE_SECRET_KEY)."""
    if request.param == "sqlite":
        return {}
    server: PostgresServer = request.getfixturevalue("postgres")
    return {"VERSE_DATABASE_URL": server.new_database(), "VERSE_SECRET_KEY": "k" * 40}


def test_store_seeds_the_demo_insight(open_store: OpenStore) -> None:
    for _ in range(2):  # the second open finds the seed (and the schema) already there
        store = open_store()
        try:
            insight = store.insight(DEMO_INSIGHT_ID)
            assert insight is not None and insight.title and insight.body
            assert store.insight(2) is None
        finally:
            store.close()


def test_postgres_migrations_are_recorded_once(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    PostgresStore(url).close()
    PostgresStore(url).close()

    with psycopg.connect(url) as db:
        versions = db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    Store(tmp_path / "verse.sqlite3").close()
    with sqlite3.connect(tmp_path / "verse.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_store_history_survives_a_restart(
    tmp_path: Path, fake_anthropic: FakeAnthropic, db_env: dict[str, str]
) -> None:
    env = {
        "VERSE_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        **db_env,
    }
    fake_anthropic.script = FakeScript(tokens=["First ", "answer."])
    with running_backend(tmp_path, env) as url, new_client(url) as client:
        first = read_stream(client, body=chat_body("First question?"))
        cookie = client.cookies["verse_session"]
    conversation_id = first.named("done")[0].json()["conversation_id"]

    fake_anthropic.script = FakeScript(tokens=["Second ", "answer."])
    index = len(fake_anthropic.requests)
    with running_backend(tmp_path, env) as url, new_client(url, logged_in=False) as client:
        client.cookies.set("verse_session", cookie)  # the signing key survived too
        second = read_stream(
            client, body=chat_body("Second question?", conversation_id=conversation_id)
        )
        history = client.get(f"/api/chat/conversations/{conversation_id}").json()
    assert second.named("done")[0].json()["conversation_id"] == conversation_id
    assert fake_anthropic.requests[index].body["messages"] == [
        {"role": "user", "content": "First question?"},
        {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "Second question?"},
    ]
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", "First question?"),
        ("assistant", "First answer."),
        ("user", "Second question?"),
        ("assistant", "Second answer."),
    ]


def _message(role: str, content: str, status: str = "complete") -> StoredMessage:
    return StoredMessage(role, content, status, None, 0.0)


def test_store_context_drops_failed_answers_and_merges_user_turns() -> None:
    history = [
        _message("user", "one"),
        _message("assistant", "", "failed"),
        _message("user", "two"),
        _message("assistant", "partial", "interrupted"),
        _message("user", "three"),
    ]
    assert model_context(history) == [
        ChatMessage("user", "one\n\ntwo"),
        ChatMessage("assistant", "partial"),
        ChatMessage("user", "three"),
    ]


def test_store_context_is_bounded_and_starts_with_a_user_turn() -> None:
    history = []
    for turn in range(MAX_CONTEXT_MESSAGES):
        history += [_message("user", f"q{turn}"), _message("assistant", f"a{turn}")]
    history.append(_message("user", "last"))
    context = model_context(history)
    assert len(context) <= MAX_CONTEXT_MESSAGES
    assert context[0].role == "user" and context[-1] == ChatMessage("user", "last")


def test_store_begin_turn_creates_the_conversation_once(open_store: OpenStore) -> None:
    store = open_store()
    try:
        conversation = Conversation("c1", "s1", DEMO_INSIGHT_ID)
        store.begin_turn(conversation, "hello")
        answer_id = store.start_answer("c1")
        store.append_answer(answer_id, "h")
        store.append_answer(answer_id, "i")
        store.finish_answer(answer_id, "complete", "end_turn")
        history = store.begin_turn(conversation, "again")
        assert store.conversation("c1") == conversation
        assert [(m.role, m.content) for m in history] == [
            ("user", "hello"),
            ("assistant", "hi"),
            ("user", "again"),
        ]
    finally:
        store.close()


def test_store_start_turn_is_begin_turn_then_start_answer(open_store: OpenStore) -> None:
    store = open_store()
    try:
        conversation = Conversation("c1", "s1", None)
        history, first = store.start_turn(conversation, "hello")
        assert [(m.role, m.content) for m in history] == [("user", "hello")]
        store.append_answers({first: "h"})
        store.finish_answer(first, "complete", "end_turn", text="i")
        history, second = store.start_turn(conversation, "again")
        assert second != first
        assert [(m.role, m.content, m.status) for m in history] == [
            ("user", "hello", "complete"),
            ("assistant", "hi", "complete"),
            ("user", "again", "complete"),
        ]
        answer = store.answer(second)
        assert answer is not None
        assert (answer.role, answer.content, answer.status) == ("assistant", "", "streaming")
        # The new answer comes after the question it answers, in the stored order too.
        assert second > first
        assert [m.role for m in store.history("c1")] == ["user", "assistant", "user", "assistant"]
        assert store.conversation("c1") == conversation
    finally:
        store.close()


def test_sqlite_store_marks_answers_left_streaming_interrupted_when_it_opens(
    tmp_path: Path,
) -> None:
    # What a killed process leaves behind: an answer still "streaming" that nobody writes.
    # (Not on PostgreSQL: another replica may be writing it; see test_stream_leases.py.)
    store = Store(tmp_path / "verse.sqlite3")
    store.begin_turn(Conversation("c1", "s1", None), "hello")
    answer_id = store.start_answer("c1")
    store.append_answer(answer_id, "partial")
    store.close()
    reopened = Store(tmp_path / "verse.sqlite3")
    try:
        answer = reopened.answer(answer_id)
        assert answer is not None and (answer.content, answer.status) == ("partial", "interrupted")
    finally:
        reopened.close()


def test_model_context_leaves_out_an_answer_still_streaming() -> None:
    history = [_message("user", "q1"), StoredMessage("assistant", "half", "streaming", None, 0.0)]
    assert model_context(history) == [ChatMessage("user", "q1")]


def test_store_keeps_a_bounded_number_of_sessions(
    open_store: OpenStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_SESSIONS", 5)
    store = open_store()
    try:
        for index in range(20):
            store.add_session(f"s{index}", "", float(index), 1e12)
        assert store.session_count() == 5
        assert store.session_valid("s19", "", 0.0) and not store.session_valid("s14", "", 0.0)
        assert not store.session_valid("s19", "another-password", 0.0)
        assert not store.session_valid("s19", "", 2e12)  # expired
        assert store.purge_sessions("another-password", 0.0) == 5
    finally:
        store.close()
