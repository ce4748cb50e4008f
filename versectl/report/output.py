"""Output sinks shared by every command: stdout for results, stderr for diagnostics."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from versectl.errors import InputError
from versectl.report.escape import TerminalGuard, printable
from versectl.report.formats import OutputFormat as OutputFormat  # re-exported for renderers
from versectl.report.styled import surely_plain

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported where a console is made, not here: JSON and piped output never need it,
# and it costs ~35 ms of every start (bench/check_nginx.py, the seed row)

_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What json.dumps leaves raw with ensure_ascii=False but a terminal may act on (C1, bidi)."""


def _guarded(stream: IO[str]) -> IO[str]:
    return cast("IO[str]", TerminalGuard(stream))  # duck-typed: rich only writes and asks isatty


def stdout_console() -> Console:
    """The console for results (tables, diffs).

    emoji off: rich would print `nginx.conf:100:` as `nginx.conf💯`. The guard escapes any
    control character a renderer let through (see versectl.report.escape).
    """
    from rich.console import Console

    return Console(file=_guarded(sys.stdout), soft_wrap=False, highlight=False, emoji=False)


def stderr_console() -> Console:
    """The console for diagnostics, progress and errors; never pollutes JSON on stdout."""
    from rich.console import Console

    return Console(file=_guarded(sys.stderr), highlight=False, soft_wrap=True, emoji=False)


def literal(text: str) -> str:
    """Text from a server, a config or the command line, for a markup string: shown as it is."""
    from rich.markup import escape

    return escape(printable(text))


JSON_VERSION = 1
_emitted: list[bool] = []
"""Set once a document went to stdout: an error after it must not add a second one."""


def emit_json(document: dict[str, Any]) -> None:
    """Write exactly one JSON document to stdout (control characters as \\u escapes)."""
    _emitted.append(True)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    sys.stdout.write("\n")
    sys.stdout.flush()


def json_file_problem(path: Path) -> str | None:
    """Why `path` cannot take a JSON document, known before any work is done; None if it can."""
    if path.is_dir():
        return f"--json-file {path}: is a directory"
    if not path.parent.is_dir():
        return f"--json-file {path}: directory {path.parent} does not exist"
    return None


def write_json_file(path: Path, document: dict[str, Any]) -> None:
    """Write the document atomically (a temporary file beside it, then rename): a full disk or
    a kill leaves the previous file whole. Raises InputError with one line on failure."""
    import tempfile  # here: every other command starts without it

    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    temporary: str | None = None
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except OSError as exc:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write --json-file {path}: {exc.strerror or exc}") from None


def report_error(
    kind: str, message: str, *, as_json: bool, details: dict[str, Any] | None = None
) -> None:
    """The error boundary's output: one line on stderr; with --format json also one document
    {"version": 1, "error": {"kind": ..., "message": ...}} on stdout, unless one went already."""
    print_error(message)
    if as_json and not _emitted:
        emit_json(
            {
                "version": JSON_VERSION,
                "error": {"kind": kind, "message": message, **(details or {})},
            }
        )


def write_plain(text: str) -> None:
    """Uncoloured text straight to stdout (fast for big reports), escaped as every output is."""
    sys.stdout.write(printable(text))
    sys.stdout.flush()


def print_error(message: str) -> None:
    """One clear error line on stderr (markup-safe: the message is printed verbatim)."""
    _diagnostic("error:", "bold red", message)


def print_warning(message: str) -> None:
    """One warning line on stderr."""
    _diagnostic("warning:", "bold yellow", message)


def _diagnostic(label: str, style: str, message: str) -> None:
    text = printable(message)
    if "\t" not in text and surely_plain(sys.stderr):
        # what rich writes to a pipe, without importing rich: an exit-2 run or a note is ~35 ms
        # shorter (a tab goes through rich, which expands it by cell widths)
        sys.stderr.write(f"{label} {text}\n")
        sys.stderr.flush()
        return
    stderr_console().print(f"[{style}]{label}[/] {literal(message)}")
