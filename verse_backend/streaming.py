"""One chat turn as Server-Sent Events: `token`* then `done`, or `error`; the answer is stored
as it streams (answer_writer.py) whatever happens (complete, failed, or interrupted by a
disconnect or shutdown)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from verse_backend.answer_writer import AnswerWriter
from verse_backend.providers.base import ChatProvider, ProviderError
from verse_backend.schemas import DoneData, ErrorData
from verse_backend.sessions import StreamSlot
from verse_backend.shutdown import ServerShuttingDown, Shutdown
from verse_backend.sse_response import sse_event, sse_frame
from verse_backend.store import (
    Conversation,
    MessageStatus,
    Store,
    StoreUnavailable,
    model_context,
)

logger = logging.getLogger(__name__)


def error_event(error: ProviderError) -> bytes:
    return sse_event("error", ErrorData(message=error.safe_message, type=error.kind))


def token_event(text: str) -> bytes:
    """`sse_event("token", TokenData(text=text))` byte for byte (a test holds them equal),
    without a pydantic model per token. Like pydantic, it refuses a lone surrogate (raises)."""
    return sse_frame("token", b'{"text":' + json.dumps(text, ensure_ascii=False).encode() + b"}")


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def answer_events(
    *,
    conversation: Conversation,
    user_text: str,
    system: str,
    provider: ChatProvider,
    store: Store,
    slot: StreamSlot,
    shutdown: Shutdown,
) -> AsyncGenerator[bytes, None]:
    """Run one turn. Every token is handed to the writer before it is sent, so once the answer
    ends the DB holds at least what the client got (and while it streams, all but the last
    FLUSH_S of it). Cancellation (client gone, server cut the stream) arrives as
    CancelledError at an await inside the provider's stream, which closes the upstream call on
    its way out; `finally` then marks the answer "interrupted". A server shutdown ends the
    answer before that: stored as "interrupted", then an `event: error` the client can read."""
    writer: AnswerWriter | None = None
    finished = False
    tokens = 0

    def finish(status: MessageStatus, stop_reason: str | None = None) -> None:
        nonlocal finished
        finished = True
        if writer is not None:
            writer.finish(status, stop_reason)

    with shutdown.stream():
        try:
            history, answer_id = store.start_turn(conversation, user_text)
            writer = AnswerWriter(store, answer_id)
            text_stream = provider.stream(model_context(history), system=system)
            async with aclosing(text_stream):
                chunks = aiter(text_stream)
                while True:
                    try:
                        text = await shutdown.next_chunk(chunks)
                    except StopAsyncIteration:
                        break
                    writer.add(text)
                    tokens += 1
                    yield token_event(text)
            stop_reason = text_stream.stop_reason
            # Finished before `done` goes out, so a client that reads `done` and then asks for
            # the history finds the answer complete.
            finish("complete", stop_reason)
            yield sse_event(
                "done",
                DoneData(conversation_id=conversation.id, tokens=tokens, stop_reason=stop_reason),
            )
        except ServerShuttingDown:
            finish("interrupted")
            yield error_event(ProviderError("server_shutdown"))
        except ProviderError as error:
            finish("failed")
            yield error_event(error)
        except StoreUnavailable as error:  # the turn could not start (its end never raises it)
            logger.warning("chat turn not started: %s", error)
            finish("failed")
            yield error_event(ProviderError("store_unavailable"))
        except Exception:
            if _being_cancelled():
                # The provider failed while being cancelled: keep the cancellation going, or
                # the task would carry on as if nobody had asked it to stop.
                logger.warning("provider failed while its stream was cancelled", exc_info=True)
                raise asyncio.CancelledError from None
            logger.exception("chat stream failed")
            finish("failed")
            yield error_event(ProviderError("internal"))
        finally:
            if not finished:
                try:
                    finish("interrupted")
                except Exception:  # never mask the cancellation that brought us here
                    logger.exception("could not mark the interrupted answer")
            slot.release()
