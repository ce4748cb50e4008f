"""`versectl fix [PATH]`: rewrite the location serving the chat into the known-good block."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from versectl.commands.options import (
    AppOption,
    BackendPortOption,
    ComposeOption,
    FormatOption,
    UrisOption,
)
from versectl.defaults import CHAT_URIS
from versectl.exit_codes import ExitCode
from versectl.report.formats import OutputFormat


def command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="The file holding the /api location. Default: found through the live config."
        ),
    ] = None,
    *,
    write: Annotated[
        bool, typer.Option(help="Apply the change. Without it: show the diff, change nothing.")
    ] = False,
    backend_port: BackendPortOption = None,
    compose: ComposeOption = None,
    no_backup: Annotated[
        bool, typer.Option(help="With --write: no PATH.versectl-TIMESTAMP.bak copy.")
    ] = False,
    nginx: Annotated[
        str | None,
        typer.Option("--nginx", help="nginx binary for validation. Default: nginx on PATH."),
    ] = None,
    nginx_conf: Annotated[
        Path | None,
        typer.Option(
            help="The main config to validate with (nginx -t -c FILE). Default: PATH when it "
            "is one, else the live main config when it includes PATH."
        ),
    ] = None,
    reload: Annotated[
        bool, typer.Option(help="After a validated write, run `nginx -s reload`.")
    ] = False,
    uri: UrisOption = None,
    server_name: Annotated[
        str | None, typer.Option(help="Only the server block answering this name.")
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Fix the server a request with this Host (and TLS SNI) reaches, chosen as "
            "nginx does (as check nginx --host).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        str | None,
        typer.Option(
            "--port",
            help="The port (or ADDRESS:PORT) that request arrives on. Default: every port.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            help="Change a location that several servers share (a snippet they all include)."
        ),
    ] = False,
    app: AppOption = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Rewrite the location serving the chat into the known-good block: diff, or --write."""
    # imported here, not at module level: `versectl --help` and other commands stay fast
    from versectl.apps.detect import choose_app
    from versectl.fix.run import FixOptions, run_fix
    from versectl.nginx.backend_port import resolve_backend_port
    from versectl.nginx.model.server_select import normalize_host, parse_port
    from versectl.report.fix import outcome_json, render_outcome, warn_if_unvalidated
    from versectl.report.output import emit_json, print_error, stdout_console

    if host is not None:
        normalize_host(host)  # bad input fails before any file is read
    profile = choose_app(app, compose)
    if profile is not None and backend_port is None:
        # the app's port as a default: a compose service running the app still names its own
        backend_port = resolve_backend_port(None, compose, profile).port
    options = FixOptions(
        path=path,
        uris=tuple(uri) if uri else profile.uris if profile is not None else CHAT_URIS,
        write=write,
        backend_port=backend_port,
        compose=compose,
        backup=not no_backup,
        nginx=nginx,
        reload=reload,
        server_name=server_name,
        nginx_conf=nginx_conf,
        force=force,
        host=host,
        port=parse_port(port) if port is not None else None,
    )
    outcome = run_fix(options)
    warn_if_unvalidated(outcome)
    if output_format is OutputFormat.json:
        emit_json(outcome_json(outcome))
    else:
        render_outcome(outcome, stdout_console(), write=write)
    if outcome.reload is not None and not outcome.reload.ok:
        print_error(f"written and validated, but nginx -s reload failed: {outcome.reload.output}")
        raise typer.Exit(ExitCode.BAD_INPUT)
    if outcome.plan.changed and not write:
        raise typer.Exit(ExitCode.FINDINGS)
    raise typer.Exit(ExitCode.OK)
