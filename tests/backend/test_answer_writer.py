"""The answer writer: tokens reach the store within FLUSH_S even when the model goes silent,
all of them before the answer's end is stored, and an outage of the store keeps text and ends
until it is back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from verse_backend.answer_writer import FLUSH_S, AnswerWriter
from verse_backend.store import Conversation, MessageStatus, Store, StoreUnavailable


class _SignallingStore(Store):
    """Sets `written` at each batch written (called on the event loop thread), and keeps the
    batches."""

    written: asyncio.Event | None = None

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[dict[int, str]] = []

    def append_answers(self, texts: Mapping[int, str]) -> None:
        super().append_answers(texts)
        self.batches.append(dict(texts))
        if self.written is not None:
            self.written.set()


def test_writer_stores_pending_tokens_by_timer_and_all_at_finish(tmp_path: Path) -> None:
    store = _SignallingStore(tmp_path / "verse.sqlite3")
    store.begin_turn(Conversation("c1", "s1", None), "question")
    answer_id = store.start_answer("c1")

    def content() -> str:
        answer = store.answer(answer_id)
        assert answer is not None
        return answer.content

    async def run() -> float:
        store.written = asyncio.Event()
        writer = AnswerWriter(store, answer_id)
        start = time.monotonic()
        writer.add("a")
        writer.add("b")
        assert content() == ""  # batched: nothing written per token
        # No further token comes (a silent model): the timer alone must write them.
        await asyncio.wait_for(store.written.wait(), timeout=10 * FLUSH_S + 5)
        waited = time.monotonic() - start
        assert content() == "ab"
        writer.add("c")
        writer.finish("complete", "end_turn")
        return waited

    try:
        waited = asyncio.run(run())
        answer = store.answer(answer_id)
        assert answer is not None
        assert (answer.content, answer.status) == ("abc", "complete")
        assert FLUSH_S * 0.9 <= waited < FLUSH_S * 10 + 5, waited  # generous: a shared machine
    finally:
        store.close()


def test_answers_streaming_together_are_written_in_one_transaction(tmp_path: Path) -> None:
    store = _SignallingStore(tmp_path / "verse.sqlite3")
    ids = []
    for name in ("c1", "c2", "c3"):
        store.begin_turn(Conversation(name, "s1", None), "question")
        ids.append(store.start_answer(name))

    async def run() -> None:
        store.written = asyncio.Event()
        writers = [AnswerWriter(store, answer_id) for answer_id in ids]
        for writer in writers:
            writer.add("x")
        writers[0].add("y")
        await asyncio.wait_for(store.written.wait(), timeout=10 * FLUSH_S + 5)
        # Finished after the batch: this answer's pending text alone, then its status.
        writers[1].add("z")
        writers[1].finish("complete", "end_turn")

    try:
        asyncio.run(run())
        assert store.batches[0] == {ids[0]: "xy", ids[1]: "x", ids[2]: "x"}
        contents = [store.answer(answer_id) for answer_id in ids]
        assert [(a.content, a.status) for a in contents if a] == [
            ("xy", "streaming"),
            ("xz", "complete"),
            ("x", "streaming"),
        ]
    finally:
        store.close()


class _OutageStore(_SignallingStore):
    """A store whose writes raise StoreUnavailable while `down` (as PostgresStore does when its
    database cannot be reached); `finished` is set at each answer end stored."""

    down = False
    finished: asyncio.Event | None = None
    retried: asyncio.Event | None = None  # set at the second write refused
    refused = 0

    def append_answers(self, texts: Mapping[int, str]) -> None:
        if self.down:
            self.refused += 1
            if self.refused >= 2 and self.retried is not None:
                self.retried.set()
            raise StoreUnavailable("OperationalError")
        super().append_answers(texts)

    def finish_answer(
        self, answer_id: int, status: MessageStatus, stop_reason: str | None = None, text: str = ""
    ) -> None:
        if self.down:
            raise StoreUnavailable("OperationalError")
        super().finish_answer(answer_id, status, stop_reason, text)
        if self.finished is not None:
            self.finished.set()


def test_an_outage_keeps_text_and_ends_until_the_store_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _OutageStore(tmp_path / "verse.sqlite3")
    ids = []
    for name in ("c1", "c2"):
        store.begin_turn(Conversation(name, "s1", None), "question")
        ids.append(store.start_answer(name))

    async def run() -> None:
        store.written, store.finished, store.retried = (asyncio.Event() for _ in range(3))
        done, going = AnswerWriter(store, ids[0]), AnswerWriter(store, ids[1])
        done.add("a")
        going.add("x")
        store.down = True
        done.add("b")
        done.finish("complete", "end_turn")  # does not raise: the end is kept
        going.add("y")
        # The timer's flushes are refused, and it tries again.
        await asyncio.wait_for(store.retried.wait(), timeout=20 * FLUSH_S + 5)
        assert store.batches == [] and not store.finished.is_set()
        store.down = False
        await asyncio.wait_for(store.finished.wait(), timeout=10 * FLUSH_S + 5)
        await asyncio.wait_for(store.written.wait(), timeout=10 * FLUSH_S + 5)

    try:
        with caplog.at_level(logging.INFO, logger="verse_backend.answer_writer"):
            asyncio.run(run())
        answers = [store.answer(answer_id) for answer_id in ids]
        assert [(a.content, a.status) for a in answers if a] == [
            ("ab", "complete"),
            ("xy", "streaming"),
        ]
        assert store.batches == [{ids[1]: "xy"}]  # each text written once
        messages = [r.getMessage() for r in caplog.records]
        assert sum("kept until it can be stored" in m for m in messages) == 1, messages
        assert sum("kept during the outage is stored" in m for m in messages) == 1, messages
        assert not any(r.exc_info for r in caplog.records)
    finally:
        store.close()
