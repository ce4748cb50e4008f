"""POST /api/session (log in: sets the signed `verse_session` cookie) and DELETE (log out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Request, Response, status

from verse_backend.deps import SettingsDep, SignerDep
from verse_backend.schemas import SessionBody, SessionOut
from verse_backend.sessions import COOKIE_NAME, SESSION_MAX_AGE_S, password_matches
from verse_backend.settings import is_loopback_host

router = APIRouter(prefix="/api/session", tags=["session"])


@router.post("")
async def create_session(
    request: Request,
    response: Response,
    settings: SettingsDep,
    signer: SignerDep,
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
    if not password_matches(expected, body.password if body else None):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong password")
    _session, cookie = signer.issue()
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
async def delete_session(response: Response, settings: SettingsDep) -> SessionOut:
    response.delete_cookie(
        COOKIE_NAME, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )
    return SessionOut(authenticated=False)
