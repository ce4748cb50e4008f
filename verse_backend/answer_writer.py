"""Answers' text on its way to the store: tokens gathered and written at most FLUSH_S after the
first of them was sent, and all of an answer's before its status is set.

One UPDATE per token was 11% of the server's CPU under load (py-spy, 200 streams); a timer and
a transaction per answer every FLUSH_S were still 7% with 500 streams (2,500 commits a second).
So the pending text of every answer streaming on a store is one batch, written by one timer in
one transaction. What this costs: a SIGKILL (no cleanup) loses at most the text sent in the
last FLUSH_S. Every other end (complete, failed, client gone, SIGTERM drain) goes through
`finish`, which writes all of that answer's text first.

While the database is unavailable (StoreUnavailable: PostgreSQL down or unreachable), the
streams go on: their text, and the ends of the answers that finish meanwhile, wait here and are
written by the timer once it is back (one warning when the outage starts, one line when it
ends). Only a process that dies before then loses them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from verse_backend.outage import OutageNotice
from verse_backend.store import MessageStatus, Store, StoreUnavailable

logger = logging.getLogger(__name__)

FLUSH_S = 0.2


class AnswerBatch:
    """The text not yet stored of every answer streaming on one store, and the ends not yet
    stored of answers that finished while the store was unavailable; touched only from the
    event loop thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[int, list[str]] = {}
        self._ends: dict[int, tuple[MessageStatus, str | None]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        self._outage = OutageNotice(
            logger,
            "%s: streamed text is kept until it can be stored",
            "streamed text kept during the outage is stored",
        )

    def add(self, answer_id: int, text: str) -> None:
        parts = self._pending.get(answer_id)
        if parts is None:
            self._pending[answer_id] = [text]
        else:
            parts.append(text)
        self._arm()

    def _arm(self) -> None:
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
        except StoreUnavailable as error:
            self._outage.failed(error)
        except Exception:
            logger.exception("could not store streamed text")
        else:
            return
        if self._pending or self._ends:  # kept: the next flush or `finish` tries again
            self._arm()

    def flush(self) -> None:
        """Write every answer's pending text (one transaction), then the ends kept back."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        texts = {k: "".join(parts) for k, parts in self._pending.items() if k not in self._ends}
        if texts:
            self._store.append_answers(texts)
            for answer_id in texts:
                del self._pending[answer_id]
        for answer_id, (status, stop_reason) in list(self._ends.items()):
            text = "".join(self._pending.get(answer_id, ()))
            self._store.finish_answer(answer_id, status, stop_reason, text)
            self._pending.pop(answer_id, None)
            del self._ends[answer_id]
        self._outage.succeeded()

    def finish(self, answer_id: int, status: MessageStatus, stop_reason: str | None) -> None:
        """Write one answer's pending text, then its end; kept for the timer to write if the
        store is unavailable (other errors reach the caller, the text kept for the next flush)."""
        parts = self._pending.pop(answer_id, None)
        try:
            # One statement: the last tokens and the end, so they are stored together or not.
            self._store.finish_answer(answer_id, status, stop_reason, "".join(parts or ()))
        except StoreUnavailable as error:
            self._pending[answer_id] = parts or []
            self._ends[answer_id] = (status, stop_reason)
            self._outage.failed(error)
            self._arm()
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
