"""The answer writer: tokens reach the store within FLUSH_S even when the model goes silent,
and all of them before the answer's end is stored."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from verse_backend.answer_writer import FLUSH_S, AnswerWriter
from verse_backend.store import Conversation, Store


class _SignallingStore(Store):
    """Sets `written` at each append (called on the event loop thread)."""

    written: asyncio.Event | None = None

    def append_answer(self, answer_id: int, text: str) -> None:
        super().append_answer(answer_id, text)
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
