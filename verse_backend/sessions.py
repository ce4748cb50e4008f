"""Signed session cookies (itsdangerous) and the per-session limit on concurrent streams."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "verse_session"
SESSION_MAX_AGE_S = 30 * 24 * 3600
_SALT = "verse-session-v1"


@dataclass(frozen=True)
class Session:
    id: str


class SessionSigner:
    """Issues and verifies `verse_session` cookie values: a signed, timestamped session id."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)

    def issue(self) -> tuple[Session, str]:
        session = Session(uuid.uuid4().hex)
        return session, self._serializer.dumps({"sid": session.id})

    def verify(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            payload = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:  # also covers SignatureExpired
            return None
        sid = payload.get("sid") if isinstance(payload, dict) else None
        return Session(sid) if isinstance(sid, str) and sid else None


def password_matches(expected: str | None, given: str | None) -> bool:
    """No password configured: anyone may start a session. Else a constant-time comparison."""
    if expected is None:
        return True
    return hmac.compare_digest((given or "").encode(), expected.encode())


class SlotLimitReached(Exception):
    """The session already has its maximum of streams open."""


@dataclass
class StreamSlot:
    """One open stream of a session; `release()` is idempotent (called from two places)."""

    slots: StreamSlots
    session_id: str
    released: bool = False

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.slots.release(self.session_id)


@dataclass
class StreamSlots:
    """Counts open streams per session. Touched only from the event loop thread (async code)."""

    limit: int
    open_streams: dict[str, int] = field(default_factory=dict)

    def acquire(self, session_id: str) -> StreamSlot:
        count = self.open_streams.get(session_id, 0)
        if count >= self.limit:
            raise SlotLimitReached(session_id)
        self.open_streams[session_id] = count + 1
        return StreamSlot(self, session_id)

    def release(self, session_id: str) -> None:
        count = self.open_streams.get(session_id, 0) - 1
        if count > 0:
            self.open_streams[session_id] = count
        else:
            self.open_streams.pop(session_id, None)

    def active(self, session_id: str) -> int:
        return self.open_streams.get(session_id, 0)
