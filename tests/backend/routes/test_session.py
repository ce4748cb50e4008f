"""POST/DELETE /api/session: the cookie, its attributes, the password check, server-side
sessions (revocation, password change) and the per-address limit on failed logins."""

from __future__ import annotations

import sqlite3
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from pydantic import SecretStr

from tests.backend.doubles import scripted_app, serving
from tests.backend.sse_client import CHAT_PATH, chat_body, new_client
from verse_backend.app import create_app
from verse_backend.settings import Settings, session_secret


def _cookie(response: httpx.Response) -> SimpleCookie:
    cookie = SimpleCookie()
    cookie.load(response.headers["set-cookie"])
    return cookie


def test_session_cookie_is_httponly_lax_and_not_secure_by_default(backend_url: str) -> None:
    with new_client(backend_url, logged_in=False) as client:
        response = client.post("/api/session", json={})
    assert response.status_code == 200
    morsel = _cookie(response)["verse_session"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert not morsel["secure"]
    assert morsel["path"] == "/"


def test_session_accepts_any_body_without_password(backend_url: str) -> None:
    with new_client(backend_url, logged_in=False) as client:
        statuses = [
            client.post("/api/session", json={"password": "whatever"}).status_code,
            client.post("/api/session").status_code,
        ]
    assert statuses == [200, 200]


def test_session_cookie_is_secure_when_configured(tmp_path: Path) -> None:
    with serving(scripted_app(tmp_path, cookie_secure=True)) as url:
        response = httpx.post(url + "/api/session", json={})
    assert _cookie(response)["verse_session"]["secure"] is True


def test_session_password_is_checked(tmp_path: Path) -> None:
    with (
        serving(scripted_app(tmp_path, password=SecretStr("correct horse"))) as url,
        new_client(url, logged_in=False) as client,
    ):
        wrong = client.post("/api/session", json={"password": "battery staple"})
        missing = client.post("/api/session", json={})
        assert "verse_session" not in client.cookies
        refused = client.post(CHAT_PATH, json=chat_body())
        right = client.post("/api/session", json={"password": "correct horse"})
        with client.stream("POST", CHAT_PATH, json=chat_body()) as allowed:
            allowed_status = allowed.status_code
    assert [wrong.status_code, missing.status_code, refused.status_code] == [401, 401, 401]
    assert (right.status_code, allowed_status) == (200, 200)


def test_session_delete_logs_out(backend_url: str) -> None:
    with new_client(backend_url) as client:
        response = client.delete("/api/session")
        assert 'verse_session=""' in response.headers["set-cookie"]
        assert client.post(CHAT_PATH, json=chat_body()).status_code == 401


def test_session_refused_on_public_socket_for_paid_model_without_password(
    tmp_path: Path,
) -> None:
    # Settings say loopback, but the server was bound elsewhere (a bare `uvicorn --host ...`):
    # TestClient reports the server as "testserver", which is not a loopback address.
    settings = Settings(
        db=tmp_path / "verse.sqlite3", provider="anthropic", anthropic_api_key=SecretStr("sk-ant-x")
    )
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/session", json={})
    assert response.status_code == 403
    assert "VERSE_PASSWORD" in response.json()["detail"]


# --- Server-side sessions: revocable, ended by a password change, opaque cookies -------------


def _logged_in_cookie(url: str, password: str | None = None) -> str:
    with new_client(url, logged_in=False) as client:
        response = client.post("/api/session", json={"password": password} if password else {})
        assert response.status_code == 200, response.text
        return str(client.cookies["verse_session"])


def _chat_status(url: str, cookie: str) -> int:
    with (
        httpx.Client(base_url=url, cookies={"verse_session": cookie}, timeout=30) as client,
        client.stream("POST", CHAT_PATH, json=chat_body()) as response,
    ):
        return response.status_code


def test_session_delete_ends_the_session_on_the_server(backend_url: str) -> None:
    cookie = _logged_in_cookie(backend_url)
    assert _chat_status(backend_url, cookie) == 200
    with httpx.Client(
        base_url=backend_url, cookies={"verse_session": cookie}, timeout=30
    ) as client:
        assert client.delete("/api/session").status_code == 200
    # The same cookie value, replayed by anyone who kept it, no longer works.
    assert _chat_status(backend_url, cookie) == 401


def test_session_survives_a_restart_but_not_a_password_change(tmp_path: Path) -> None:
    with serving(scripted_app(tmp_path, password=SecretStr("first"))) as url:
        cookie = _logged_in_cookie(url, "first")
        other = _logged_in_cookie(url, "first")
    with serving(scripted_app(tmp_path, password=SecretStr("first"))) as url:
        assert _chat_status(url, cookie) == 200
    with serving(scripted_app(tmp_path, password=SecretStr("second"))) as url:
        assert [_chat_status(url, cookie), _chat_status(url, other)] == [401, 401]
    # Changing it back does not revive them: their records were deleted at the change.
    with serving(scripted_app(tmp_path, password=SecretStr("first"))) as url:
        assert _chat_status(url, cookie) == 401


def test_session_cookie_is_an_opaque_token_that_only_the_store_can_honour(
    tmp_path: Path,
) -> None:
    app = scripted_app(tmp_path)
    with serving(app) as url:
        cookie = _logged_in_cookie(url)
        token = URLSafeTimedSerializer(session_secret(app.state.settings), "verse-session-v2")
        issued = token.loads(cookie)
        assert isinstance(issued, str) and len(issued) >= 40  # a random secret, no claims
        # Correctly signed, never issued: refused, because the record decides.
        assert _chat_status(url, token.dumps("x" * 43)) == 401
        assert _chat_status(url, cookie) == 200
    db = sqlite3.connect(tmp_path / "db" / "verse.sqlite3")
    stored = db.execute("SELECT id, password_fp FROM sessions").fetchall()
    assert len(stored) == 1 and issued not in stored[0][0]  # only a hash of the token is kept


# --- Login attempts limited per client address -----------------------------------------------


def _from(url: str, source: str, headers: dict[str, str] | None = None) -> httpx.Client:
    """A client whose connections come from the loopback address `source`."""
    return httpx.Client(
        base_url=url,
        transport=httpx.HTTPTransport(local_address=source),
        headers=headers,
        timeout=30,
    )


def test_login_attempts_are_limited_per_address_with_retry_after(tmp_path: Path) -> None:
    with serving(
        scripted_app(tmp_path, password=SecretStr("right"), login_burst=5, login_per_minute=0.001)
    ) as url:
        with _from(url, "127.0.0.2") as guesser:
            statuses = [
                guesser.post("/api/session", json={"password": f"guess{i}"}).status_code
                for i in range(200)
            ]
            limited = guesser.post("/api/session", json={"password": "right"})
        with _from(url, "127.0.0.3") as other:
            others_login = other.post("/api/session", json={"password": "right"})
        with _from(url, "127.0.0.2") as guesser:
            still_limited = guesser.post("/api/session", json={"password": "right"})
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # While limited even the right password is refused: the answer must not tell.
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # Another address is not affected, and its success does not lift the first one's limit.
    assert others_login.status_code == 200
    assert still_limited.status_code == 429


def test_login_limit_follows_x_forwarded_for_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    # The in-thread uvicorn trusts 127.0.0.1 as a proxy (uvicorn's default), like nginx on
    # the same host with `--forwarded-allow-ips 127.0.0.1`.
    with serving(
        scripted_app(tmp_path, password=SecretStr("right"), login_burst=2, login_per_minute=0.001)
    ) as url:

        def attempts(source: str, forwarded_for: str) -> list[int]:
            with _from(url, source, {"X-Forwarded-For": forwarded_for}) as client:
                return [
                    client.post("/api/session", json={"password": "wrong"}).status_code
                    for _ in range(3)
                ]

        assert attempts("127.0.0.1", "203.0.113.7") == [401, 401, 429]
        assert attempts("127.0.0.1", "203.0.113.8") == [401, 401, 429]  # another client
        # From an untrusted address the header is ignored: it counts as 127.0.0.4.
        assert attempts("127.0.0.4", "203.0.113.9") == [401, 401, 429]
        assert attempts("127.0.0.4", "203.0.113.10") == [429, 429, 429]
