"""The typer application: assembles the commands; each lives in versectl/commands/."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from versectl import __version__
from versectl.commands.lazy import LazyCommand, LazyGroup
from versectl.errors import ConfigParseError, VersectlError
from versectl.exit_codes import EXIT_CODES_HELP, ExitCode
from versectl.report.output import print_error, report_error

COMMANDS = (
    LazyCommand(
        "check",
        "versectl.commands.check_nginx:command:nginx",
        "Check a deployment's configuration.",
    ),
    LazyCommand(
        "probe-stream",
        "versectl.commands.probe_stream:command",
        "Time every event of an SSE stream as it arrives; verdict streaming/buffered/partial.",
    ),
    LazyCommand(
        "fix",
        "versectl.commands.fix:command",
        "Rewrite the location serving the chat into the known-good block: diff, or --write.",
    ),
    LazyCommand(
        "rules",
        "versectl.commands.rules:rules_command",
        "List every rule of `check nginx`: name, default severity, one line each.",
    ),
    LazyCommand(
        "explain",
        "versectl.commands.rules:explain_command",
        "Explain one rule: what it detects, why it breaks streaming, example, fix, references.",
    ),
    LazyCommand(
        "doctor",
        "versectl.commands.doctor:command",
        "Check + probe (direct and through nginx) + advice, in one report.",
    ),
    LazyCommand(
        "apps",
        "versectl.commands.apps:command",
        "List the app profiles for --app: name, streaming URIs, usual backend port, framing.",
    ),
)
"""Every command, in --help order; each module is imported only when its command runs."""


class _Versectl(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="versectl",
    cls=_Versectl,
    help="Measure and fix SSE streaming of LLM chat apps behind nginx.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # secrets (keys, cookies) live in locals
    add_completion=False,
    rich_markup_mode=None,  # click's plain help: typer's rich help imports ~50 ms of markdown
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"versectl {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Measure and fix SSE streaming of LLM chat apps behind nginx."""


def _wants_json(args: list[str]) -> bool:
    """`--format json` anywhere on the command line: known before click parses anything, so a
    usage error gets its JSON document too."""
    pairs = zip(args, [*args[1:], ""], strict=False)
    return any(a == "--format=json" or (a == "--format" and b == "json") for a, b in pairs)


def main() -> None:
    """Console-script entry point: the one error boundary of the CLI.

    Every error is one line on stderr and exit 2; with --format json also one JSON document
    with an `error` object on stdout (versectl.report.output.report_error).
    """
    as_json = _wants_json(sys.argv[1:])
    try:
        # without --format json, click's own usage errors keep their formatting
        code = app(standalone_mode=not as_json)
    except typer.Abort:
        print_error("interrupted")
        sys.exit(130)
    except typer.TyperException as exc:  # click's usage errors (typer vendors click)
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        report_error("usage", message, as_json=as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except ConfigParseError as exc:
        details = {"file": exc.file, "line": exc.line}
        report_error(exc.kind, str(exc), as_json=as_json, details=details)
        sys.exit(ExitCode.BAD_INPUT)
    except VersectlError as exc:
        report_error(exc.kind, str(exc), as_json=as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except RecursionError:
        report_error("input", "the input is nested too deeply", as_json=as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except MemoryError:
        report_error("input", "out of memory reading the input", as_json=as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except OSError as exc:  # what no command turned into a message: still one line
        where = f"{exc.filename}: " if exc.filename else ""
        report_error("input", f"{where}{exc.strerror or exc}", as_json=as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)
