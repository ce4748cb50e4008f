"""The streaming chat routes (SSE) and conversation history.

Endpoints return an SseResponse (sse_response.py) over answer_events: FastAPI has run every
check (deps.py) before the first byte; the response sends `: ping` while the model is silent.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from verse_backend.deps import (
    CONVERSATION_HEADER,
    ChatConversationDep,
    ChatRequestDep,
    InsightDep,
    ProviderDep,
    SessionDep,
    ShutdownDep,
    StandaloneConversationDep,
    StandaloneRequestDep,
    StoreDep,
    StreamSlotDep,
)
from verse_backend.schemas import ConversationOut, MessageOut
from verse_backend.sse_response import SseResponse
from verse_backend.store import Insight
from verse_backend.streaming import answer_events

router = APIRouter(prefix="/api", tags=["chat"])

STANDALONE_SYSTEM = "You are a helpful, concise assistant. Answer in plain prose."


def insight_system(insight: Insight) -> str:
    return (
        "You are a helpful, concise assistant. The user is reading this insight and asks "
        f"about it.\n\nTitle: {insight.title}\n\n{insight.body}"
    )


@router.post("/chat/message", response_class=SseResponse)
async def chat_message(
    session: SessionDep,
    body: ChatRequestDep,
    insight: InsightDep,
    conversation: ChatConversationDep,
    slot: StreamSlotDep,
    provider: ProviderDep,
    store: StoreDep,
    shutdown: ShutdownDep,
) -> SseResponse:
    """Ask about an insight; the answer streams as `token` events, then `done` (or `error`)."""
    return SseResponse(
        answer_events(
            conversation=conversation,
            user_text=body.message,
            system=insight_system(insight),
            provider=provider,
            store=store,
            slot=slot,
            shutdown=shutdown,
        ),
        # A returned Response does not get the headers deps set on `response`: repeat it.
        headers={CONVERSATION_HEADER: conversation.id},
    )


@router.post("/standalone-chat", response_class=SseResponse)
async def standalone_chat(
    session: SessionDep,
    body: StandaloneRequestDep,
    conversation: StandaloneConversationDep,
    slot: StreamSlotDep,
    provider: ProviderDep,
    store: StoreDep,
    shutdown: ShutdownDep,
) -> SseResponse:
    """A chat not tied to an insight; same stream as /api/chat/message."""
    return SseResponse(
        answer_events(
            conversation=conversation,
            user_text=body.message,
            system=STANDALONE_SYSTEM,
            provider=provider,
            store=store,
            slot=slot,
            shutdown=shutdown,
        ),
        # A returned Response does not get the headers deps set on `response`: repeat it.
        headers={CONVERSATION_HEADER: conversation.id},
    )


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
