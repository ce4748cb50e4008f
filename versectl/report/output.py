"""Output sinks shared by every command: stdout for results, stderr for diagnostics."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console


class OutputFormat(StrEnum):
    """`--format` values."""

    table = "table"
    json = "json"


def stdout_console() -> Console:
    """The console for results (tables, diffs)."""
    return Console(soft_wrap=False, highlight=False)


def stderr_console() -> Console:
    """The console for diagnostics, progress and errors; never pollutes JSON on stdout."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(document: dict[str, Any]) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_error(message: str) -> None:
    """One clear error line on stderr (markup-safe: the message is printed verbatim)."""
    stderr_console().print(f"[bold red]error:[/] {_escape(message)}")


def print_warning(message: str) -> None:
    """One warning line on stderr."""
    stderr_console().print(f"[bold yellow]warning:[/] {_escape(message)}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
