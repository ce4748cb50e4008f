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
        bool,
        typer.Option(help="POST /api/session first (verse_backend needs a session cookie)."),
    ] = True,
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the --login password.")
    ] = "VERSE_PASSWORD",  # noqa: S107 (a variable's name, not a password)
    timeout: Annotated[float, typer.Option(help="Seconds allowed per stream, in total.")] = 120.0,
    insecure: Annotated[bool, typer.Option(help="Skip TLS certificate verification.")] = False,
    cacert: Annotated[
        Path | None,
        typer.Option(help="Trust the CA certificates in this PEM file instead of the system's."),
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
    from versectl.nginx.check import DEFAULT_HEARTBEAT
    from versectl.report.doctor import render_diagnosis

    options = DoctorOptions(
        url=url,
        direct=direct,
        config=tuple(config or ()),
        uris=tuple(uri or ()),
        server_name=server_name,
        backend_port=backend_port,
        compose=compose,
        heartbeat=DEFAULT_HEARTBEAT if heartbeat is None else heartbeat,
        login=login,
        password_env=password_env,
        timeout=timeout,
        insecure=insecure,
        cacert=None if cacert is None else str(cacert),
        resolve=tuple(resolve or ()),
    )
    diagnosis = run_doctor(options)
    render_diagnosis(diagnosis, output_format)
    raise typer.Exit(diagnosis.exit_code)
