"""POST /api/session (log in: a server-side session behind the `verse_session` cookie) and
DELETE (log out: the session record is deleted, so the cookie stops working everywhere)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Cookie, HTTPException, Request, Response, status

from verse_backend.deps import LoginLimiterDep, SessionsDep, SettingsDep, StoreDep
from verse_backend.login_limiter import client_key
from verse_backend.schemas import SessionBody, SessionOut
from verse_backend.sessions import COOKIE_NAME, SESSION_MAX_AGE_S, password_matches
from verse_backend.settings import is_loopback_host

router = APIRouter(prefix="/api/session", tags=["session"])


@router.post("")
async def create_session(
    request: Request,
    response: Response,
    settings: SettingsDep,
    sessions: SessionsDep,
    store: StoreDep,
    limiter: LoginLimiterDep,
    body: Annotated[SessionBody | None, Body()] = None,
) -> SessionOut:
    expected = settings.password.get_secret_value() if settings.password else None
    if expected is None and settings.effective_provider == "anthropic":
        # Startup refused a public host already (settings.check_exposure); this catches a bare
        # `uvicorn --host 0.0.0.0` that the settings could not see: the socket tells the truth.
        server = request.scope.get("server")
        if server and not is_loopback_host(str(server[0])):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "set VERSE_PASSWORD: this server spends API credit and is reachable from outside",
            )
    # The client address as uvicorn saw it: behind nginx, the real one only when uvicorn
    # trusts nginx's X-Forwarded-For (--forwarded-allow-ips), else nginx's for everyone.
    key = client_key(request.client.host if request.client else None)
    wait = limiter.retry_after(key)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "too many failed logins from this address: try again later",
            headers={"Retry-After": str(wait)},
        )
    if not password_matches(expected, body.password if body else None):
        limiter.failed(key)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong password")
    limiter.succeeded(key)
    _session, cookie = sessions.issue(store)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=SESSION_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )
    return SessionOut(authenticated=True)


@router.delete("")
async def delete_session(
    response: Response,
    settings: SettingsDep,
    sessions: SessionsDep,
    store: StoreDep,
    verse_session: Annotated[str | None, Cookie(alias=COOKIE_NAME)] = None,
) -> SessionOut:
    sessions.revoke(store, verse_session)
    response.delete_cookie(
        COOKIE_NAME, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )
    return SessionOut(authenticated=False)
