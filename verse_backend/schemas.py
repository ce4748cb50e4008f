"""Request and response bodies of the HTTP API (see CONTRACT.md, "Backend HTTP API")."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

# SQLite's INTEGER range: a larger id could never match, and sqlite3 raises OverflowError on it.
SQLITE_INT_MIN = -(2**63)
SQLITE_INT_MAX = 2**63 - 1


def _encodable(value: str) -> str:
    """JSON may carry lone surrogates ("\\ud800") that no UTF-8 store or hash accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]
"""Every string the API accepts: storable, hashable, printable."""


class SessionBody(BaseModel):
    password: Text | None = None


class SessionOut(BaseModel):
    authenticated: bool


class MessageBody(BaseModel):
    # min_length: an empty question is a client bug, not something to bill a model for.
    # The upper bound (VERSE_MAX_MESSAGE_CHARS) is configurable, so it is checked in deps.py.
    message: Text = Field(min_length=1)
    conversation_id: Text | None = Field(default=None, min_length=1, max_length=64)


class ChatMessageBody(MessageBody):
    insight_id: int = Field(ge=SQLITE_INT_MIN, le=SQLITE_INT_MAX)


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
