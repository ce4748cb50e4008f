"""`versectl doctor [URL]`: check the nginx config, probe direct and through nginx, advise."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer

from versectl.errors import ProbeError, VersectlError
from versectl.report.output import OutputFormat

DEFAULT_URL = "http://127.0.0.1/api/chat/message"


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
    backend_port: Annotated[
        int | None,
        typer.Option(
            help="The backend's port. Default: from --compose, else 7776.", show_default=False
        ),
    ] = None,
    compose: Annotated[
        str | None,
        typer.Option(help="docker compose file (default ./docker-compose.prod.yml when present)."),
    ] = None,
    heartbeat: Annotated[
        float | None,
        typer.Option(
            help="The backend's longest silence between bytes, in seconds. "
            "Default: the app's (15 for verse).",
            show_default=False,
        ),
    ] = None,
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
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="The model name the --app body asks for (e.g. llama3.2).",
            show_default=False,
        ),
    ] = None,
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
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table (for people) or json (one document).")
    ] = OutputFormat.table,
) -> None:
    """Check + probe (direct and through nginx) + advice, in one report.

    An https URL is probed over HTTP/2 (as a browser) and HTTP/1.1 (as an SDK).
    """
    # imported here: `versectl --help` stays fast
    from versectl.apps.detect import choose_app
    from versectl.apps.models import with_listed_model
    from versectl.doctor import diagnose
    from versectl.doctor_hops import local_address
    from versectl.nginx.backend_port import resolve_backend_port
    from versectl.nginx.check import CheckOptions, run_check
    from versectl.nginx.load import load_config
    from versectl.probe.client import make_ssl_context
    from versectl.probe.protocol import versions_to_probe
    from versectl.probe.request import build_request, parse_url
    from versectl.probe.runner import ProbePlan, run_plan
    from versectl.report.doctor import render_diagnosis

    profile = choose_app(app, compose)
    if heartbeat is None:
        heartbeat = profile.heartbeat if profile is not None else 15.0
    if login is None:
        login = profile is None or profile.login
    if url == DEFAULT_URL and profile is not None:
        url = f"http://127.0.0.1{profile.uris[0]}"
    request = build_request(
        url, headers=header, timeout=timeout, insecure=insecure, app=profile, model=model
    )
    if profile is not None and model is None:
        request = with_listed_model(profile, request)  # the server's first model
    if cacert is not None:
        request = dataclasses.replace(request, cacert=str(cacert))
        make_ssl_context(insecure, request.cacert)  # an unreadable file fails here, clearly
    path = parse_url(url).raw_path.decode("ascii").split("?")[0] or "/"
    check = check_error = None
    port = resolve_backend_port(backend_port, compose, profile).port
    try:
        loaded = load_config(config or None)
        options = CheckOptions(
            uris=(path,),
            server_name=server_name,
            backend_port=backend_port,
            compose=compose,
            heartbeat=heartbeat,
            app=profile,
        )
        check = run_check(loaded, options)
    except VersectlError as exc:
        check_error = str(exc)
    direct_url = str(parse_url(direct or f"http://127.0.0.1:{port}{path}", "--direct"))
    plan = ProbePlan(
        request=request,
        versions=tuple(versions_to_probe(request.url, None)),
        direct_url=direct_url,
        login_password=os.environ.get(password_env, "") if login else None,
    )
    outcome = probe_error = None
    try:
        outcome = asyncio.run(run_plan(plan))
    except ProbeError as exc:
        probe_error = (exc.kind, str(exc))
    parsed = parse_url(request.url)
    local_at = local_address(
        parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), local
    )
    local_analyses = None
    if local_at is not None and outcome is not None:
        local_plan = dataclasses.replace(
            plan,
            request=dataclasses.replace(request, connect_to=local_at),
            versions=plan.versions[:1],
            direct_url=None,
        )
        try:
            local_analyses = asyncio.run(run_plan(local_plan)).target
        except ProbeError:
            local_analyses = None  # the login failed there: the hops stay unnamed
    diagnosis = diagnose(check, check_error, outcome, probe_error, local_analyses)
    render_diagnosis(diagnosis, output_format)
    raise typer.Exit(diagnosis.exit_code)
