"""One chat turn as Server-Sent Events: `token`* then `done`, or `error`; the answer is stored
whatever happens (complete, failed, or interrupted by a client disconnect or shutdown)."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from fastapi.sse import ServerSentEvent

from verse_backend.providers.base import ChatProvider, ProviderError
from verse_backend.schemas import DoneData, ErrorData, TokenData
from verse_backend.sessions import StreamSlot
from verse_backend.store import Conversation, MessageStatus, Store, model_context

logger = logging.getLogger(__name__)


def error_event(error: ProviderError) -> ServerSentEvent:
    return ServerSentEvent(
        event="error", data=ErrorData(message=error.safe_message, type=error.kind)
    )


async def answer_events(
    *,
    conversation: Conversation,
    user_text: str,
    system: str,
    provider: ChatProvider,
    store: Store,
    slot: StreamSlot,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Run one turn. Cancellation (client gone) arrives as CancelledError at an await inside
    the provider's stream, which closes the upstream call on its way out; `finally` then
    stores what was said so far as "interrupted"."""
    parts: list[str] = []
    stored = False
    stop_reason: str | None = None

    def store_answer(status: MessageStatus) -> None:
        nonlocal stored
        stored = True
        store.add_answer(conversation.id, "".join(parts), status, stop_reason)

    try:
        history = store.begin_turn(conversation, user_text)
        text_stream = provider.stream(model_context(history), system=system)
        async with aclosing(text_stream):
            async for text in text_stream:
                parts.append(text)
                yield ServerSentEvent(event="token", data=TokenData(text=text))
        stop_reason = text_stream.stop_reason
        # Stored before `done` goes out, so a client that reads `done` and then asks for the
        # history finds the answer.
        store_answer("complete")
        yield ServerSentEvent(
            event="done",
            data=DoneData(
                conversation_id=conversation.id, tokens=len(parts), stop_reason=stop_reason
            ),
        )
    except ProviderError as error:
        store_answer("failed")
        yield error_event(error)
    except Exception:
        logger.exception("chat stream failed")
        store_answer("failed")
        yield error_event(ProviderError("internal"))
    finally:
        if not stored:
            try:
                store_answer("interrupted")
            except Exception:  # never mask the cancellation that brought us here
                logger.exception("could not store the interrupted answer")
        slot.release()
