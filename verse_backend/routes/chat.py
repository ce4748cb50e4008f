"""The streaming chat routes (SSE) and conversation history.

Endpoints return an SseResponse (sse_response.py) over answer_events: FastAPI has run every
check (deps.py) before the first byte; the response sends `: ping` while the model is silent.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from verse_backend.deps import (
    ChatTurn,
    ChatTurnDep,
    ProviderDep,
    SessionDep,
    StandaloneTurnDep,
    StoreDep,
)
from verse_backend.providers.base import ChatProvider
from verse_backend.schemas import ConversationOut, MessageOut
from verse_backend.sse_response import SseResponse
from verse_backend.streaming import answer_events

router = APIRouter(prefix="/api", tags=["chat"])

CONVERSATION_HEADER = "X-Conversation-Id"


def _answer(turn: ChatTurn, provider: ChatProvider) -> SseResponse:
    return SseResponse(
        answer_events(
            conversation=turn.conversation,
            user_text=turn.message,
            system=turn.system,
            provider=provider,
            store=turn.store,
            slot=turn.slot,
            shutdown=turn.shutdown,
        ),
        # The conversation's id also goes out as a header, so a client that disconnects
        # before `done` knows it.
        headers={CONVERSATION_HEADER: turn.conversation.id},
    )


@router.post("/chat/message", response_class=SseResponse)
async def chat_message(turn: ChatTurnDep, provider: ProviderDep) -> SseResponse:
    """Ask about an insight; the answer streams as `token` events, then `done` (or `error`)."""
    return _answer(turn, provider)


@router.post("/standalone-chat", response_class=SseResponse)
async def standalone_chat(turn: StandaloneTurnDep, provider: ProviderDep) -> SseResponse:
    """A chat not tied to an insight; same stream as /api/chat/message."""
    return _answer(turn, provider)


@router.get("/chat/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: str, session: SessionDep, store: StoreDep
) -> ConversationOut:
    """A conversation's stored messages, oldest first (only the session that started it)."""
    conversation = store.conversation(conversation_id)
    if conversation is None or conversation.session_id != session.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "conversation not found")
    return ConversationOut(
        conversation_id=conversation.id,
        insight_id=conversation.insight_id,
        messages=[
            MessageOut(
                role=m.role,
                content=m.content,
                status=m.status,
                stop_reason=m.stop_reason,
                created_at=m.created_at,
            )
            for m in store.history(conversation.id)
        ],
    )
