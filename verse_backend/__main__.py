"""`verse-backend` / `python -m verse_backend`: run the backend under uvicorn, production-ready."""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from verse_backend import __version__
from verse_backend.app import create_app
from verse_backend.connection_guard import accept_backlog, connection_cap, guarded_protocol
from verse_backend.server import serve
from verse_backend.settings import Settings, UnsafeConfigurationError

# uvicorn waits for open streams forever on shutdown unless told otherwise; chat streams can
# last minutes, so after this many seconds they are cut (their partial answers are stored).
DEFAULT_GRACEFUL_SHUTDOWN_S = 5.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verse-backend", description="Run the verse chat backend (settings: VERSE_* env)."
    )
    parser.add_argument("--host", help="bind address (default: VERSE_HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: VERSE_PORT, else 7776)")
    parser.add_argument(
        "--forwarded-allow-ips",
        help="proxies trusted for X-Forwarded-* (default: VERSE_FORWARDED_ALLOW_IPS, else "
        "127.0.0.1; in docker, the bridge gateway that nginx connects from)",
    )
    parser.add_argument(
        "--timeout-graceful-shutdown",
        type=float,
        default=DEFAULT_GRACEFUL_SHUTDOWN_S,
        help="seconds open streams get on shutdown before they are cancelled (default 5)",
    )
    parser.add_argument(
        "--fd",
        type=int,
        help="serve on this inherited, already bound socket (socket activation; tests)",
    )
    parser.add_argument("--version", action="version", version=f"verse-backend {__version__}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    overrides: dict[str, object] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    if args.forwarded_allow_ips is not None:
        overrides["forwarded_allow_ips"] = args.forwarded_allow_ips
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except (ValidationError, UnsafeConfigurationError) as exc:
        print(f"verse-backend: {_reason(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    cap = connection_cap(settings.max_connections)
    where: dict[str, object] = (
        {"fd": args.fd} if args.fd is not None else {"host": settings.host, "port": settings.port}
    )
    serve(
        create_app(settings),
        **where,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        timeout_keep_alive=settings.keep_alive_s,
        http=guarded_protocol(header_timeout_s=settings.header_timeout_s, max_connections=cap),
        backlog=accept_backlog(cap),
    )


def _reason(exc: Exception) -> str:
    """The human sentence inside a pydantic ValidationError, without its boilerplate."""
    if isinstance(exc, ValidationError):
        return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
    return str(exc)


if __name__ == "__main__":
    main()
