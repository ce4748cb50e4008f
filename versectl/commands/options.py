"""Options shared by several commands: one `Annotated` alias and one validator each, so
`--uri` or `--heartbeat` mean and check the same thing wherever they are accepted."""

from __future__ import annotations

import math
import stat
from pathlib import Path
from typing import Annotated

import typer

from versectl.errors import InputError
from versectl.report.formats import OutputFormat

CHAT_URIS_HELP = "/api/chat/message and /api/standalone-chat"
"""Help text only: the values live in versectl.nginx.check.DEFAULT_URIS (a heavy import)."""


def check_uris(value: list[str] | None) -> list[str] | None:
    """`--uri`: request paths as nginx receives them, starting with '/'."""
    for item in value or ():
        if not item.startswith("/"):
            raise InputError(f"--uri {item!r}: a request path starts with '/'")
        if any(ord(c) < 0x21 or ord(c) == 0x7F for c in item):
            raise InputError(f"--uri {item!r}: a request path has no spaces or control characters")
    return value


def check_heartbeat(value: float | None) -> float | None:
    """`--heartbeat`: a positive, finite number of seconds (None: the default)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"--heartbeat {value:g}: must be a positive number of seconds")
    return value


def check_backend_port(value: int | None) -> int | None:
    """`--backend-port`: a TCP port, 1-65535."""
    if value is not None and not 0 < value < 65536:
        raise InputError(f"--backend-port {value}: not a TCP port (1-65535)")
    return value


def check_compose(value: str | None) -> str | None:
    """`--compose`: an existing regular file (a FIFO or a directory is refused before reading)."""
    if value is None:
        return None
    try:
        mode = Path(value).stat().st_mode
    except OSError as exc:
        raise InputError(f"--compose {value}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"--compose {value}: not a regular file")
    return value


UrisOption = Annotated[
    list[str] | None,
    typer.Option(
        "--uri",
        metavar="PATH",
        help=f"Request path to evaluate (repeatable). Default: {CHAT_URIS_HELP} "
        "(doctor: the URL's path).",
        show_default=False,
        callback=check_uris,
    ),
]
HeartbeatOption = Annotated[
    float | None,
    typer.Option(
        "--heartbeat",
        help="The backend's longest silence between bytes, in seconds. Default: the app's "
        "(15 for verse).",
        show_default=False,
        callback=check_heartbeat,
    ),
]
BackendPortOption = Annotated[
    int | None,
    typer.Option(
        "--backend-port",
        help="The port the backend listens on. Default: from --compose, else 7776.",
        show_default=False,
        callback=check_backend_port,
    ),
]
ComposeOption = Annotated[
    str | None,
    typer.Option(
        "--compose",
        help="docker compose file with the backend's published port "
        "(default ./docker-compose.prod.yml when present).",
        show_default=False,
        callback=check_compose,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="table (for people) or json (one document on stdout)."),
]
AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="The chat app behind nginx (`versectl apps`): its URIs, backend port and "
        "heartbeat are the defaults. Default: from the compose file's images, else verse.",
        show_default=False,
    ),
]
"""`--app`: a profile name (validated by versectl.apps.detect, which knows the profiles)."""
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="The model name the --app body asks for (e.g. llama3.2). Default: the first model "
        "the server lists.",
        show_default=False,
    ),
]
