"""`versectl doctor [URL]`: check the nginx config, probe direct and through nginx, advise."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from versectl.commands.options import (
    BackendPortOption,
    ComposeOption,
    FormatOption,
    HeartbeatOption,
    ModelOption,
    UrisOption,
)
from versectl.report.formats import OutputFormat

DEFAULT_URL = "http://127.0.0.1/api/chat/message"
"""Also versectl.doctor_run.DEFAULT_URL; repeated here so `--help` imports nothing heavy."""


def command(
    url: Annotated[
        str,
        typer.Argument(help="The chat stream as the browser reaches it (through nginx)."),
    ] = DEFAULT_URL,
    *,
    direct: Annotated[
        str | None,
        typer.Option(
            help="The backend's own URL. Default: http://127.0.0.1:<backend port><URL's path>.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option(
            "--config",
            help="nginx config file(s) or dir, or '-' (as for check nginx). Default: the live config.",
            show_default=False,
        ),
    ] = None,
    server_name: Annotated[
        str | None, typer.Option(help="Only the server block(s) answering this name.")
    ] = None,
    uri: UrisOption = None,
    backend_port: BackendPortOption = None,
    compose: ComposeOption = None,
    heartbeat: HeartbeatOption = None,
    login: Annotated[
        bool | None,
        typer.Option(
            help="POST /api/session first (verse_backend needs a session cookie). "
            "Default: on for verse, off for other apps.",
            show_default=False,
        ),
    ] = None,
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            help="The chat app behind nginx (`versectl apps`): its URIs, port, body, framing and "
            "heartbeat. Default: from the compose file's images, else verse.",
            show_default=False,
        ),
    ] = None,
    model: ModelOption = None,
    header: Annotated[
        list[str] | None,
        typer.Option(
            "-H", "--header", help="'Name: value' for the probes (an API key); repeatable."
        ),
    ] = None,
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the --login password.")
    ] = "VERSE_PASSWORD",  # noqa: S107 (a variable's name, not a password)
    timeout: Annotated[float, typer.Option(help="Seconds allowed per stream, in total.")] = 120.0,
    insecure: Annotated[bool, typer.Option(help="Skip TLS certificate verification.")] = False,
    cacert: Annotated[
        Path | None,
        typer.Option(help="Trust the CA certificates in this PEM file instead of the system's."),
    ] = None,
    local: Annotated[
        str | None,
        typer.Option(
            help="ADDRESS:PORT of this machine's nginx: the same request (Host, TLS SNI) is sent "
            "there too, to name a hop in front (CDN, proxy). Default: 127.0.0.1:<URL's port> "
            "when the URL names another host.",
            show_default=False,
        ),
    ] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve",
            help="HOST:PORT:ADDRESS: connect to ADDRESS for HOST:PORT, with Host and TLS SNI "
            "still HOST (as curl --resolve); repeatable. The check judges the server HOST "
            "reaches on that address and port.",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Check + probe (direct and through nginx) + advice, in one report.

    An https URL is probed over HTTP/2 (as a browser) and HTTP/1.1 (as an SDK).
    """
    # imported here: `versectl --help` stays fast
    from versectl.doctor_run import DoctorOptions, run_doctor
    from versectl.report.doctor import render_diagnosis

    options = DoctorOptions(
        url=url,
        direct=direct,
        config=tuple(config or ()),
        uris=tuple(uri or ()),
        server_name=server_name,
        backend_port=backend_port,
        compose=compose,
        heartbeat=heartbeat,
        login=login,
        password_env=password_env,
        timeout=timeout,
        insecure=insecure,
        cacert=None if cacert is None else str(cacert),
        resolve=tuple(resolve or ()),
        app=app,
        model=model,
        headers=tuple(header or ()),
        local=local,
    )
    diagnosis = run_doctor(options)
    render_diagnosis(diagnosis, output_format)
    raise typer.Exit(diagnosis.exit_code)
