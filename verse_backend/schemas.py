"""Request and response bodies of the HTTP API (see CONTRACT.md, "Backend HTTP API")."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SessionBody(BaseModel):
    password: str | None = None


class SessionOut(BaseModel):
    authenticated: bool


class MessageBody(BaseModel):
    # min_length: an empty question is a client bug, not something to bill a model for.
    # The upper bound (VERSE_MAX_MESSAGE_CHARS) is configurable, so it is checked in deps.py.
    message: str = Field(min_length=1)
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)


class ChatMessageBody(MessageBody):
    insight_id: int


class StandaloneChatBody(MessageBody):
    pass


class TokenData(BaseModel):
    text: str


class DoneData(BaseModel):
    conversation_id: str
    tokens: int
    stop_reason: str | None


class ErrorData(BaseModel):
    message: str
    type: str


class MessageOut(BaseModel):
    role: str
    content: str
    status: str
    stop_reason: str | None
    created_at: float


class ConversationOut(BaseModel):
    conversation_id: str
    insight_id: int | None
    messages: list[MessageOut]


class HealthOut(BaseModel):
    status: str
    provider: str
    version: str
