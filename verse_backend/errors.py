"""422 responses that can always be rendered: FastAPI's default echoes the rejected input, which
fails as JSON (1e400 is inf; a lone surrogate is not UTF-8) and would repeat a wrong password.
And a 503 for a request that found the database unreachable, instead of a 500 and a traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from verse_backend.store import StoreUnavailable

# Long enough for a reconnect attempt's pause (store_postgres.RECONNECT_PAUSE_S) to be over.
RETRY_AFTER_S = 1


def _printable(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def safe_errors(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's error list with `type`, `loc` and `msg` only (never the input)."""
    return [
        {
            "type": _printable(error.get("type", "value_error")),
            "loc": [_printable(part) for part in error.get("loc", ())],
            "msg": _printable(error.get("msg", "")),
        }
        for error in errors
        if isinstance(error, dict)
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": safe_errors(exc.errors())}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The store logged the loss once; a line per request would flood the log in an outage.
    return JSONResponse(
        {"detail": "database unavailable"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StoreUnavailable, _store_unavailable)
