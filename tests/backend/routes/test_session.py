"""POST/DELETE /api/session: the signed cookie, its attributes, and the password check."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr

from tests.backend.doubles import scripted_app, serving
from tests.backend.sse_client import CHAT_PATH, chat_body, new_client
from verse_backend.app import create_app
from verse_backend.settings import Settings


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
    response = TestClient(create_app(settings)).post("/api/session", json={})
    assert response.status_code == 403
    assert "VERSE_PASSWORD" in response.json()["detail"]
