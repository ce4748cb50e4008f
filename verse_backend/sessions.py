"""Sessions: server-side records (revocable) behind an opaque, signed cookie, and the
per-session limit on concurrent streams.

The cookie carries a random secret; the store keeps only its hash (the session id that owns
conversations) and a keyed fingerprint of the password the session was issued under, so a
password change ends every session and a DB leak yields neither cookies nor the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "verse_session"
SESSION_MAX_AGE_S = 30 * 24 * 3600
_SALT = "verse-session-v2"
VERIFIED_COOKIES_KEPT = 4096
_PASSWORD_FP_CONTEXT = b"verse-password-fingerprint-v1\0"


@dataclass(frozen=True)
class Session:
    id: str
    """Not secret (a hash of the cookie's secret): what conversations are owned by."""


class SessionRecords(Protocol):
    """Where session records live (verse_backend.store.Store)."""

    def add_session(
        self, session_id: str, password_fp: str, created_at: float, expires_at: float
    ) -> None: ...

    def session_valid(self, session_id: str, password_fp: str, now: float) -> bool: ...

    def delete_session(self, session_id: str) -> None: ...


def password_fingerprint(secret: str, password: str | None) -> str:
    """A keyed hash of the configured password ("" when none): equal iff the password is."""
    if password is None:
        return ""
    return hmac.new(
        secret.encode(), _PASSWORD_FP_CONTEXT + password.encode(), hashlib.sha256
    ).hexdigest()


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class SessionManager:
    """Issues, verifies and revokes sessions. The cookie value is a signed random token: the
    signature turns forged cookies away before the store is asked; the record decides."""

    def __init__(self, secret: str, password_fp: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.password_fp = password_fp
        # cookie -> (token, signed at): a cookie's signature is checked once, not on every
        # request (itsdangerous derives its key and decodes each time: a fifth of a chat
        # request's dependency work, cProfile). Only cookies that verified are kept, so a flood
        # of forged ones adds nothing; the age is still checked on every use, and the record
        # (revocation, password change) is still asked every time.
        self._verified: dict[str, tuple[str, float]] = {}

    def issue(self, records: SessionRecords) -> tuple[Session, str]:
        token = secrets.token_urlsafe(32)
        session = Session(_session_id(token))
        now = time.time()
        records.add_session(session.id, self.password_fp, now, now + SESSION_MAX_AGE_S)
        return session, self._serializer.dumps(token)

    def _token(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        known = self._verified.get(cookie)
        if known is not None:
            token, signed_at = known
            if time.time() - signed_at <= SESSION_MAX_AGE_S:
                return token
            del self._verified[cookie]
            return None
        try:
            token, signed = self._serializer.loads(
                cookie, max_age=SESSION_MAX_AGE_S, return_timestamp=True
            )
        except BadSignature:  # also covers SignatureExpired
            return None
        if not isinstance(token, str) or not token:
            return None
        if len(self._verified) >= VERIFIED_COOKIES_KEPT:
            self._verified.clear()  # bounded; the next requests verify again
        self._verified[cookie] = (token, signed.timestamp())
        return token

    def verify(self, records: SessionRecords, cookie: str | None) -> Session | None:
        token = self._token(cookie)
        if token is None:
            return None
        session = Session(_session_id(token))
        if not records.session_valid(session.id, self.password_fp, time.time()):
            return None
        return session

    def revoke(self, records: SessionRecords, cookie: str | None) -> None:
        token = self._token(cookie)
        if token is not None:
            records.delete_session(_session_id(token))


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
