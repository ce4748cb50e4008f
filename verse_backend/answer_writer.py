"""Answers' text on its way to the store: tokens gathered and written at most FLUSH_S after the
first of them was sent, and all of an answer's before its status is set.

One UPDATE per token was 11% of the server's CPU under load (py-spy, 200 streams); a timer and
a transaction per answer every FLUSH_S were still 7% with 500 streams (2,500 commits a second).
So the pending text of every answer streaming on a store is one batch, written by one timer in
one transaction. What this costs: a SIGKILL (no cleanup) loses at most the text sent in the
last FLUSH_S. Every other end (complete, failed, client gone, SIGTERM drain) goes through
`finish`, which writes all of that answer's text first.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from verse_backend.store import MessageStatus, Store

logger = logging.getLogger(__name__)

FLUSH_S = 0.2


class AnswerBatch:
    """The text not yet stored of every answer streaming on one store; touched only from the
    event loop thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[int, list[str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    def add(self, answer_id: int, text: str) -> None:
        parts = self._pending.get(answer_id)
        if parts is None:
            self._pending[answer_id] = [text]
        else:
            parts.append(text)
        loop = asyncio.get_running_loop()
        # A timer, not a check at the next token: the model may then be silent for long. (A
        # timer of another loop, one that was closed, would never run: the store outlived it.)
        if self._timer is None or self._timer_loop is not loop:
            self._timer = loop.call_later(FLUSH_S, self._flush_later)
            self._timer_loop = loop

    def _flush_later(self) -> None:
        self._timer = None
        try:
            self.flush()
        except Exception:  # kept pending: the next flush or `finish` tries again
            logger.exception("could not store streamed text")
            if self._pending:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_S, self._flush_later)

    def flush(self) -> None:
        """Write every answer's pending text, in one transaction."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._store.append_answers(
                {key: "".join(parts) for key, parts in self._pending.items()}
            )
            self._pending.clear()

    def finish(self, answer_id: int, status: MessageStatus, stop_reason: str | None) -> None:
        """Write one answer's pending text, then its end."""
        parts = self._pending.pop(answer_id, None)
        try:
            # One statement: the last tokens and the end, so they are stored together or not.
            self._store.finish_answer(answer_id, status, stop_reason, "".join(parts or ()))
        except Exception:
            if parts:
                self._pending[answer_id] = parts  # for the next flush; the caller hears of it
            raise


_batches: weakref.WeakKeyDictionary[Store, AnswerBatch] = weakref.WeakKeyDictionary()


def batch_for(store: Store) -> AnswerBatch:
    """The one batch of `store` (made at its first answer)."""
    batch = _batches.get(store)
    if batch is None:
        batch = _batches[store] = AnswerBatch(store)
    return batch


class AnswerWriter:
    """One answer's handle on its store's batch."""

    def __init__(self, store: Store, answer_id: int) -> None:
        self._batch = batch_for(store)
        self._answer_id = answer_id

    def add(self, text: str) -> None:
        """Record `text` before it is sent; it reaches the store within FLUSH_S."""
        self._batch.add(self._answer_id, text)

    def flush(self) -> None:
        self._batch.flush()

    def finish(self, status: MessageStatus, stop_reason: str | None = None) -> None:
        """Store every pending token of this answer, then the answer's end."""
        self._batch.finish(self._answer_id, status, stop_reason)
