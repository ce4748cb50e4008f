"""Output sinks shared by every command: stdout for results, stderr for diagnostics."""

from __future__ import annotations

import json
import re
import sys
from enum import StrEnum
from typing import IO, Any, cast

from rich.console import Console
from rich.markup import escape

from versectl.report.escape import TerminalGuard, printable

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What json.dumps leaves raw with ensure_ascii=False but a terminal may act on (C1, bidi)."""


class OutputFormat(StrEnum):
    """`--format` values."""

    table = "table"
    json = "json"


def _guarded(stream: IO[str]) -> IO[str]:
    return cast("IO[str]", TerminalGuard(stream))  # duck-typed: rich only writes and asks isatty


def stdout_console() -> Console:
    """The console for results (tables, diffs).

    emoji off: rich would print `nginx.conf:100:` as `nginx.conf💯`. The guard escapes any
    control character a renderer let through (see versectl.report.escape).
    """
    return Console(file=_guarded(sys.stdout), soft_wrap=False, highlight=False, emoji=False)


def stderr_console() -> Console:
    """The console for diagnostics, progress and errors; never pollutes JSON on stdout."""
    return Console(file=_guarded(sys.stderr), highlight=False, soft_wrap=True, emoji=False)


def literal(text: str) -> str:
    """Text from a server, a config or the command line, for a markup string: shown as it is."""
    return escape(printable(text))


def emit_json(document: dict[str, Any]) -> None:
    """Write exactly one JSON document to stdout (control characters as \\u escapes)."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    sys.stdout.write("\n")
    sys.stdout.flush()


def write_plain(text: str) -> None:
    """Uncoloured text straight to stdout (fast for big reports), escaped as every output is."""
    sys.stdout.write(printable(text))
    sys.stdout.flush()


def print_error(message: str) -> None:
    """One clear error line on stderr (markup-safe: the message is printed verbatim)."""
    stderr_console().print(f"[bold red]error:[/] {literal(message)}")


def print_warning(message: str) -> None:
    """One warning line on stderr."""
    stderr_console().print(f"[bold yellow]warning:[/] {literal(message)}")
