"""FastAPI dependencies as Annotated aliases. Every check that can refuse a chat request runs
here, before the endpoint's generator: once the 200 and the first byte are out, an error can
only end the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Cookie, Depends, HTTPException, Request, status

from verse_backend.login_limiter import LoginLimiter
from verse_backend.prompts import system_prompt
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
from verse_backend.store import Conversation, Store, new_conversation_id


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ProviderDep = Annotated[ChatProvider, Depends(get_provider)]
SessionsDep = Annotated[SessionManager, Depends(get_sessions)]
LoginLimiterDep = Annotated[LoginLimiter, Depends(get_login_limiter)]


async def require_session(
    request: Request,
    store: StoreDep,
    verse_session: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> Session:
    sessions: SessionManager = request.app.state.sessions
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


@dataclass(frozen=True)
class ChatTurn:
    """A chat request that passed every check, with what its stream needs."""

    conversation: Conversation
    message: str
    system: str
    store: Store
    slot: StreamSlot
    shutdown: Shutdown


def _conversation(
    conversation_id: str | None, insight_id: int | None, session: Session, store: Store
) -> Conversation:
    """The conversation to continue, or a new one (stored when its first turn starts).

    Another session's conversation is reported as not found: ids are not proof of ownership.
    """
    if conversation_id is None:
        return Conversation(new_conversation_id(), session.id, insight_id)
    found = store.conversation(conversation_id)
    if found is None or found.session_id != session.id or found.insight_id != insight_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    return found


def _acquire_slot(slots: StreamSlots, session: Session) -> StreamSlot:
    try:
        return slots.acquire(session.id)
    except SlotLimitReached:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"at most {slots.limit} concurrent streams per session",
        ) from None


def _turn(
    request: Request,
    session: Session,
    body: MessageBody,
    insight_id: int | None,
    conversation_id: str | None,
    store: Store,
) -> ChatTurn:
    """The checks of a chat request in the order a client sees them fail: session (401, a
    sub-dependency, so before the body), body (422), insight and conversation (404), the
    session's stream slots (429).

    One dependency per route, reading the app's own objects from `app.state`: FastAPI walks
    every node of a dependency graph on every request, even the cached ones, and the graph
    this replaces (about 20 nodes) was a third of a request's cost to its first token.
    """
    state = request.app.state
    _check_length(body, state.settings)
    insight = None
    if insight_id is not None:
        insight = store.insight(insight_id)
        if insight is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"insight {insight_id} not found")
    conversation = _conversation(conversation_id, insight_id, session, store)
    slot = _acquire_slot(state.stream_slots, session)
    return ChatTurn(conversation, body.message, system_prompt(insight), store, slot, state.shutdown)


# The stream's own `finally` releases the slot as soon as the answer ends; the teardown of
# these two (after the response, scope="request") is the backstop for a stream that never
# started.


async def chat_turn(
    request: Request, session: SessionDep, body: ChatMessageBody, store: StoreDep
) -> AsyncIterator[ChatTurn]:
    turn = _turn(request, session, body, body.insight_id, body.conversation_id, store)
    try:
        yield turn
    finally:
        turn.slot.release()


async def standalone_turn(
    request: Request, session: SessionDep, body: StandaloneChatBody, store: StoreDep
) -> AsyncIterator[ChatTurn]:
    turn = _turn(request, session, body, None, body.conversation_id, store)
    try:
        yield turn
    finally:
        turn.slot.release()


ChatTurnDep = Annotated[ChatTurn, Depends(chat_turn, scope="request")]
StandaloneTurnDep = Annotated[ChatTurn, Depends(standalone_turn, scope="request")]
