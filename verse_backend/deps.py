"""FastAPI dependencies as Annotated aliases. Every check that can refuse a chat request runs
here, before the endpoint's generator: once the 200 and the first byte are out, an error can
only end the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Cookie, Depends, HTTPException, Request, Response, status

from verse_backend.login_limiter import LoginLimiter
from verse_backend.providers.base import ChatProvider
from verse_backend.schemas import ChatMessageBody, MessageBody, StandaloneChatBody
from verse_backend.sessions import (
    COOKIE_NAME,
    Session,
    SessionManager,
    SlotLimitReached,
    StreamSlot,
    StreamSlots,
)
from verse_backend.settings import Settings
from verse_backend.shutdown import Shutdown
from verse_backend.store import Conversation, Insight, Store, new_conversation_id

CONVERSATION_HEADER = "X-Conversation-Id"


def app_state(name: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency reading `app.state.<name>`. Async on purpose: FastAPI runs a plain `def`
    dependency in a worker thread, a thread hop per dependency per request (seven of them
    were a tenth of the server's CPU with 500 streams starting at once)."""

    async def dependency(request: Request) -> Any:
        return getattr(request.app.state, name)

    dependency.__name__ = f"get_{name}"
    return dependency


get_settings = app_state("settings")
get_store = app_state("store")
get_provider = app_state("provider")
get_sessions = app_state("sessions")
get_login_limiter = app_state("login_limiter")
get_stream_slots = app_state("stream_slots")
get_shutdown = app_state("shutdown")


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ProviderDep = Annotated[ChatProvider, Depends(get_provider)]
SessionsDep = Annotated[SessionManager, Depends(get_sessions)]
LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]
StreamSlotsDep = Annotated[StreamSlots, Depends(get_stream_slots)]
ShutdownDep = Annotated[Shutdown, Depends(get_shutdown)]


async def require_session(
    sessions: SessionsDep,
    store: StoreDep,
    verse_session: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> Session:
    session = sessions.verify(store, verse_session)
    if session is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "no valid session: POST /api/session first"
        )
    return session


SessionDep = Annotated[Session, Depends(require_session)]


def _check_length(body: MessageBody, settings: Settings) -> None:
    """422 in FastAPI's own error shape, for a limit only known at run time."""
    if len(body.message) > settings.max_message_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "type": "string_too_long",
                    "loc": ["body", "message"],
                    "msg": f"String should have at most {settings.max_message_chars} characters",
                    "ctx": {"max_length": settings.max_message_chars},
                }
            ],
        )


async def chat_request(body: ChatMessageBody, settings: SettingsDep) -> ChatMessageBody:
    _check_length(body, settings)
    return body


async def standalone_request(body: StandaloneChatBody, settings: SettingsDep) -> StandaloneChatBody:
    _check_length(body, settings)
    return body


ChatRequestDep = Annotated[ChatMessageBody, Depends(chat_request)]
StandaloneRequestDep = Annotated[StandaloneChatBody, Depends(standalone_request)]


async def insight_for_chat(body: ChatRequestDep, store: StoreDep) -> Insight:
    insight = store.insight(body.insight_id)
    if insight is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"insight {body.insight_id} not found")
    return insight


InsightDep = Annotated[Insight, Depends(insight_for_chat)]


def _conversation(
    conversation_id: str | None,
    insight_id: int | None,
    session: Session,
    store: Store,
    response: Response,
) -> Conversation:
    """The conversation to continue, or a new one (stored when its first turn starts).

    Another session's conversation is reported as not found: ids are not proof of ownership.
    The id also goes out as a header, so a client that disconnects before `done` knows it.
    """
    if conversation_id is None:
        conversation = Conversation(new_conversation_id(), session.id, insight_id)
    else:
        found = store.conversation(conversation_id)
        if found is None or found.session_id != session.id or found.insight_id != insight_id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
        conversation = found
    response.headers[CONVERSATION_HEADER] = conversation.id
    return conversation


async def chat_conversation(
    body: ChatRequestDep,
    insight: InsightDep,
    session: SessionDep,
    store: StoreDep,
    response: Response,
) -> Conversation:
    return _conversation(body.conversation_id, insight.id, session, store, response)


async def standalone_conversation(
    body: StandaloneRequestDep, session: SessionDep, store: StoreDep, response: Response
) -> Conversation:
    return _conversation(body.conversation_id, None, session, store, response)


ChatConversationDep = Annotated[Conversation, Depends(chat_conversation)]
StandaloneConversationDep = Annotated[Conversation, Depends(standalone_conversation)]


async def stream_slot(session: SessionDep, slots: StreamSlotsDep) -> AsyncIterator[StreamSlot]:
    """One of the session's concurrent-stream slots, or 429.

    The stream's own `finally` releases it as soon as the answer ends; this teardown (after the
    response, scope="request") is the backstop for a stream whose generator never started.
    """
    try:
        slot = slots.acquire(session.id)
    except SlotLimitReached:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"at most {slots.limit} concurrent streams per session",
        ) from None
    try:
        yield slot
    finally:
        slot.release()


StreamSlotDep = Annotated[StreamSlot, Depends(stream_slot, scope="request")]
