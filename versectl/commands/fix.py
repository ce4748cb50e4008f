"""`versectl fix [PATH]`: rewrite the location serving the chat into the known-good block."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from versectl.exit_codes import ExitCode
from versectl.report.output import OutputFormat, emit_json, print_error, stdout_console


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
    backend_port: Annotated[
        int | None,
        typer.Option(help="The port the backend listens on. Default: from --compose, else 7776."),
    ] = None,
    compose: Annotated[
        str | None,
        typer.Option(
            help="docker compose file publishing the backend's port "
            "(default ./docker-compose.prod.yml when present)."
        ),
    ] = None,
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
    uri: Annotated[
        list[str] | None,
        typer.Option(
            help="Request path served by the block to fix; repeatable. Default: the chat URIs."
        ),
    ] = None,
    server_name: Annotated[
        str | None, typer.Option(help="Only the server block answering this name.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            help="Change a location that several servers share (a snippet they all include)."
        ),
    ] = False,
    app: Annotated[
        str | None,
        typer.Option(
            help="The chat app behind nginx (`versectl apps`): its URIs and backend port are "
            "the defaults for --uri and --backend-port."
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table (for people) or json (one document).")
    ] = OutputFormat.table,
) -> None:
    """Rewrite the location serving the chat into the known-good block: diff, or --write."""
    # imported here, not at module level: `versectl --help` and other commands stay fast
    from versectl.apps.detect import choose_app
    from versectl.fix.run import FixOptions, run_fix
    from versectl.nginx.backend_port import resolve_backend_port
    from versectl.nginx.check import DEFAULT_URIS
    from versectl.report.fix import outcome_json, render_outcome, warn_if_unvalidated

    profile = choose_app(app, compose)
    if profile is not None and backend_port is None:
        # the app's port as a default: a compose service running the app still names its own
        backend_port = resolve_backend_port(None, compose, profile).port
    options = FixOptions(
        path=path,
        uris=tuple(uri) if uri else profile.uris if profile is not None else DEFAULT_URIS,
        write=write,
        backend_port=backend_port,
        compose=compose,
        backup=not no_backup,
        nginx=nginx,
        reload=reload,
        server_name=server_name,
        nginx_conf=nginx_conf,
        force=force,
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
