"""SessionManager: a cookie verifies once (its signature), then its age and its record are
checked on every use; forged, expired and revoked cookies never pass."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from verse_backend import sessions as sessions_module
from verse_backend.sessions import SESSION_MAX_AGE_S, SessionManager
from verse_backend.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "verse.sqlite3")


def test_a_cookie_verifies_again_and_again(store: Store) -> None:
    manager = SessionManager("s" * 32, "")
    session, cookie = manager.issue(store)
    assert manager.verify(store, cookie) == session
    assert manager.verify(store, cookie) == session  # the remembered signature


def test_a_forged_or_foreign_cookie_does_not(store: Store) -> None:
    manager = SessionManager("s" * 32, "")
    _session, cookie = manager.issue(store)
    other = SessionManager("t" * 32, "")
    assert other.verify(store, cookie) is None  # another secret's signature
    assert manager.verify(store, cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB")) is None
    assert manager.verify(store, "") is None
    assert manager.verify(store, None) is None


class EverlastingRecords:
    """Records that never expire: only the cookie's own age can refuse it."""

    def add_session(
        self, session_id: str, password_fp: str, created_at: float, expires_at: float
    ) -> None:
        pass

    def session_valid(self, session_id: str, password_fp: str, now: float) -> bool:
        return True

    def delete_session(self, session_id: str) -> None:
        pass


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    records = EverlastingRecords()
    manager = SessionManager("s" * 32, "")
    session, cookie = manager.issue(records)
    assert manager.verify(records, cookie) == session
    later = time.time() + SESSION_MAX_AGE_S + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert manager.verify(records, cookie) is None


def test_a_remembered_cookie_is_refused_once_revoked(store: Store) -> None:
    manager = SessionManager("s" * 32, "")
    session, cookie = manager.issue(store)
    assert manager.verify(store, cookie) == session
    manager.revoke(store, cookie)
    assert manager.verify(store, cookie) is None


def test_the_memory_of_verified_cookies_is_bounded(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions_module, "VERIFIED_COOKIES_KEPT", 3)
    manager = SessionManager("s" * 32, "")
    issued = [manager.issue(store) for _ in range(10)]
    for session, cookie in issued:
        assert manager.verify(store, cookie) == session
        assert len(manager._verified) <= 3
