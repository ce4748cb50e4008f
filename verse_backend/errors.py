"""422 responses that can always be rendered: FastAPI's default echoes the rejected input, which
fails as JSON (1e400 is inf; a lone surrogate is not UTF-8) and would repeat a wrong password."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
