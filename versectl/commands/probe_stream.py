"""`versectl probe-stream URL`: time every event as it arrives and say whether the stream streams."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from versectl.commands.options import FormatOption, ModelOption
from versectl.errors import InputError
from versectl.exit_codes import ExitCode
from versectl.report.formats import OutputFormat

if TYPE_CHECKING:
    from versectl.probe.runner import ProbeOutcome, ProbePlan
    from versectl.report.probe_live import LiveView

EXIT_FOR_VERDICT = {
    "streaming": ExitCode.OK,
    "buffered": ExitCode.FINDINGS,
    "partial": ExitCode.FINDINGS,
    "error": ExitCode.BAD_INPUT,
    "inconclusive": ExitCode.INCONCLUSIVE,
}
"""Keyed by the verdict's value: versectl.probe is imported only when the command runs."""


def command(
    url: Annotated[str, typer.Argument(help="The stream URL, e.g. https://host/api/chat/message.")],
    *,
    method: Annotated[
        str | None,
        typer.Option("-X", "--method", help="HTTP method. Default: POST with a body, else GET."),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "-d",
            "--data",
            help="JSON body, or @FILE. Default for /api/chat/message and /api/standalone-chat: "
            "a chat message verse_backend accepts.",
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("-H", "--header", help="'Name: value'; repeatable.")
    ] = None,
    cookie: Annotated[
        list[str] | None,
        typer.Option("-b", "--cookie", help="'name=value'; repeatable. Values are never printed."),
    ] = None,
    login: Annotated[
        bool,
        typer.Option(
            "--login",
            help="First POST /api/session on the same origin (password from --password-env).",
        ),
    ] = False,
    password_env: Annotated[
        str,
        typer.Option(help="Environment variable holding the --login password (unset: empty)."),
    ] = "VERSE_PASSWORD",  # noqa: S107 (a variable's name, not a password)
    direct: Annotated[
        str | None,
        typer.Option(
            help="The backend's own URL: probe it too and attribute a difference to the hops between."
        ),
    ] = None,
    runs: Annotated[int, typer.Option("-n", "--runs", min=1, help="Streams in sequence.")] = 1,
    concurrency: Annotated[
        int, typer.Option("-c", "--concurrency", min=1, help="Parallel streams per run.")
    ] = 1,
    timeout: Annotated[float, typer.Option(help="Seconds allowed per stream, in total.")] = 120.0,
    connect_timeout: Annotated[float, typer.Option(help="Seconds allowed to connect.")] = 5.0,
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
            "still HOST (as curl --resolve); repeatable.",
            show_default=False,
        ),
    ] = None,
    http2: Annotated[
        bool,
        typer.Option(
            "--http2",
            help="Only HTTP/2 (h2 by ALPN over TLS; h2c prior knowledge on http://). "
            "Default for https: both HTTP/2 (as a browser) and HTTP/1.1 (as an SDK).",
        ),
    ] = False,
    http1_1: Annotated[
        bool, typer.Option("--http1.1", help="Only HTTP/1.1 (the default for http:// URLs).")
    ] = False,
    app: Annotated[
        str | None,
        typer.Option(
            "--app",
            help="The chat app answering (`versectl apps`): its request body and token framing "
            "for the URL's endpoint. Default: verse's.",
            show_default=False,
        ),
    ] = None,
    model: ModelOption = None,
    output_format: FormatOption = OutputFormat.table,
    json_file: Annotated[
        Path | None,
        typer.Option(help="Also write the JSON document to this file (with either --format)."),
    ] = None,
) -> None:
    """Time every event of an SSE stream as it arrives; verdict streaming/buffered/partial.

    An https URL is probed over HTTP/2 (as a browser) and HTTP/1.1 (as an SDK), a verdict
    each; the exit code is the worst of them.
    """
    # imported here, not at module level: `versectl --help` and other commands stay fast
    from versectl.apps.models import with_listed_model
    from versectl.apps.profile import get_profile
    from versectl.probe.analysis import aggregate
    from versectl.probe.client import make_ssl_context
    from versectl.probe.protocol import HttpVersion, versions_to_probe
    from versectl.probe.request import build_request, parse_url
    from versectl.probe.runner import ProbePlan
    from versectl.report.output import emit_json, json_file_problem, stdout_console, write_json_file
    from versectl.report.probe import outcome_json, render_outcome

    if http2 and http1_1:
        raise InputError("--http2 and --http1.1 exclude each other: give one, or neither")
    profile = get_profile(app) if app is not None else None
    forced = HttpVersion.http2 if http2 else HttpVersion.http1_1 if http1_1 else None
    request = build_request(
        url,
        method=method,
        data=data,
        headers=header,
        cookies=cookie,
        timeout=timeout,
        connect_timeout=connect_timeout,
        insecure=insecure,
        app=profile,
        model=model,
        resolve=resolve,
    )
    if profile is not None and model is None and data is None:
        request = with_listed_model(profile, request)  # the server's first model, not a guess
    if cacert is not None:
        request = dataclasses.replace(request, cacert=str(cacert))
        make_ssl_context(insecure, request.cacert)  # an unreadable file fails here, clearly
    if direct is not None:
        direct = str(parse_url(direct, "--direct"))
    if json_file is not None and (problem := json_file_problem(json_file)):
        raise InputError(problem)  # before the probe: minutes of streaming are not wasted
    plan = ProbePlan(
        request=request,
        versions=tuple(versions_to_probe(request.url, forced)),
        direct_url=direct,
        runs=runs,
        concurrency=concurrency,
        login_password=os.environ.get(password_env, "") if login else None,
    )
    outcome = _run(plan, output_format)
    if output_format is OutputFormat.json:
        emit_json(outcome_json(outcome))
    else:
        render_outcome(outcome, stdout_console())
    if json_file is not None:
        write_json_file(json_file, outcome_json(outcome))  # InputError: exit 2, one line
    raise typer.Exit(EXIT_FOR_VERDICT[str(aggregate(outcome.target).verdict)])


def _run(plan: ProbePlan, output_format: OutputFormat) -> ProbeOutcome:
    from versectl.probe.runner import run_plan
    from versectl.report.output import stderr_console
    from versectl.report.probe_live import LiveView

    if output_format is OutputFormat.json or not stderr_console().is_terminal:
        return asyncio.run(run_plan(plan))
    streams = plan.runs * plan.concurrency * (len(plan.versions) + (1 if plan.direct_url else 0))
    with LiveView(streams) as view:
        return asyncio.run(_run_with_view(plan, view))


async def _run_with_view(plan: ProbePlan, view: LiveView) -> ProbeOutcome:
    from versectl.probe.runner import run_plan

    publisher = asyncio.create_task(view.publish_forever())
    try:
        return await run_plan(plan, view.observe)
    finally:
        publisher.cancel()
