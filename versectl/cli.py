"""The typer application: assembles the commands; each lives in versectl/commands/."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from versectl import __version__
from versectl.commands import check_nginx, doctor, fix, probe_stream, rules
from versectl.errors import VersectlError
from versectl.exit_codes import EXIT_CODES_HELP, ExitCode
from versectl.report.output import print_error

app = typer.Typer(
    name="versectl",
    help="Measure and fix SSE streaming of LLM chat apps behind nginx.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # secrets (keys, cookies) live in locals
    add_completion=False,
)
check_app = typer.Typer(help="Check a deployment's configuration.", no_args_is_help=True)
app.add_typer(check_app, name="check")

check_app.command("nginx", epilog=EXIT_CODES_HELP)(check_nginx.command)
app.command("probe-stream", epilog=EXIT_CODES_HELP)(probe_stream.command)
app.command("fix", epilog=EXIT_CODES_HELP)(fix.command)
app.command("rules")(rules.rules_command)
app.command("explain")(rules.explain_command)
app.command("doctor", epilog=EXIT_CODES_HELP)(doctor.command)


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


def main() -> None:
    """Console-script entry point: the one error boundary of the CLI."""
    try:
        app()
    except VersectlError as exc:
        print_error(str(exc))
        sys.exit(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        print_error("interrupted")
        sys.exit(130)
