"""`versectl check nginx`: what nginx will do to the chat stream, from its configuration."""

from __future__ import annotations

from typing import Annotated

import typer

from versectl.commands.options import (
    AppOption,
    BackendPortOption,
    ComposeOption,
    FormatOption,
    HeartbeatOption,
    UrisOption,
)
from versectl.exit_codes import ExitCode
from versectl.report.formats import OutputFormat


def command(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Config file(s), a directory of *.conf, or '-' for `nginx -T` output on "
            "stdin. Default: the live config (`nginx -T`, else /etc/nginx/nginx.conf).",
            show_default=False,
        ),
    ] = None,
    *,
    uri: UrisOption = None,
    server_name: Annotated[
        str | None,
        typer.Option("--server-name", help="Only the server block(s) answering this name."),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Judge only the server a request with this Host (and TLS SNI) reaches, "
            "chosen as nginx does (server_name, default_server, first server).",
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
    backend_port: BackendPortOption = None,
    compose: ComposeOption = None,
    heartbeat: HeartbeatOption = None,
    app: AppOption = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="No TCP connect to backends, no look at the running nginx."),
    ] = False,
    output_format: FormatOption = OutputFormat.table,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings also fail (exit 1).")] = False,
) -> None:
    """Check the nginx config for what breaks SSE chat streaming; explain every finding."""
    # imported here, not at module level: `versectl --help` and other commands stay fast
    from versectl.apps.detect import choose_app
    from versectl.nginx.check import DEFAULT_HEARTBEAT, DEFAULT_URIS, CheckOptions, run_check
    from versectl.nginx.finding import Severity
    from versectl.nginx.load import load_config
    from versectl.report.check import render_check

    profile = choose_app(app, compose)
    uris = tuple(uri) if uri else profile.uris if profile is not None else DEFAULT_URIS
    if heartbeat is None:
        heartbeat = profile.heartbeat if profile is not None else DEFAULT_HEARTBEAT
    listen_port = None
    if host is not None or port is not None:
        # here, not above: without --host/--port no server choice is made
        from versectl.nginx.model.server_select import normalize_host, parse_port

        if host is not None:
            normalize_host(host)  # bad input fails before the config is read
        listen_port = parse_port(port) if port is not None else None
    config = load_config(paths or None)
    options = CheckOptions(
        uris=uris,
        server_name=server_name,
        host=host,
        port=listen_port,
        backend_port=backend_port,
        compose=compose,
        heartbeat=heartbeat,
        offline=offline,
        app=profile,
    )
    result = run_check(config, options)
    render_check(result, output_format, heartbeat=heartbeat)
    failing = result.count(Severity.error) + (result.count(Severity.warning) if strict else 0)
    raise typer.Exit(ExitCode.FINDINGS if failing else ExitCode.OK)
