"""`versectl doctor` as one domain function: check the config, probe direct and through nginx,
and diagnose. The command only parses options and renders (as `run_fix` is for `fix`)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from versectl.apps.detect import choose_app
from versectl.apps.models import with_listed_model
from versectl.apps.profile import AppProfile
from versectl.doctor import Diagnosis, diagnose
from versectl.doctor_hops import local_address
from versectl.errors import ProbeError, VersectlError
from versectl.nginx.backend_port import resolve_backend_port
from versectl.nginx.check import DEFAULT_HEARTBEAT, CheckOptions, CheckResult, run_check
from versectl.nginx.load import load_config
from versectl.nginx.url_reach import reached, url_reach
from versectl.probe.analysis import StreamAnalysis
from versectl.probe.client import make_ssl_context
from versectl.probe.protocol import versions_to_probe
from versectl.probe.request import build_request, parse_url
from versectl.probe.runner import ProbeOutcome, ProbePlan, run_plan

DEFAULT_URL = "http://127.0.0.1/api/chat/message"


@dataclass(frozen=True)
class DoctorOptions:
    """The knobs of `versectl doctor` (CONTRACT.md, plus --config, --login and TLS options)."""

    url: str = DEFAULT_URL
    direct: str | None = None
    """The backend's own URL. None: http://127.0.0.1:<backend port><url's path>."""
    config: tuple[str, ...] = ()
    """nginx config paths (as for check nginx); empty: the live config."""
    server_name: str | None = None
    uris: tuple[str, ...] = ()
    """Request paths the config check evaluates; empty: the URL's path."""
    backend_port: int | None = None
    compose: str | None = None
    heartbeat: float | None = None
    """None: the app's heartbeat (15 s for verse)."""
    login: bool | None = None
    """None: on for verse, off for other apps (their own auth: -H)."""
    password_env: str = "VERSE_PASSWORD"  # noqa: S105 (a variable's name, not a password)
    timeout: float = 120.0
    insecure: bool = False
    cacert: str | None = None
    resolve: tuple[str, ...] = ()
    """curl's --resolve HOST:PORT:ADDRESS entries: where to connect, Host and SNI unchanged."""
    app: str | None = None
    """An app profile's name (`versectl apps`). None: from the compose file's images, else verse."""
    model: str | None = None
    """The model the app's body asks for. None: the first model the server lists."""
    headers: tuple[str, ...] = ()
    """'Name: value' headers for the probes (an API key)."""
    local: str | None = None
    """ADDRESS:PORT of this machine's nginx, to name the hops in front. None: see doctor_hops."""


def run_doctor(options: DoctorOptions) -> Diagnosis:
    """Check, probe and diagnose. Bad options raise InputError before anything runs; a config
    that cannot be checked or a probe that cannot start becomes part of the diagnosis."""
    profile = choose_app(options.app, options.compose)
    heartbeat = options.heartbeat
    if heartbeat is None:
        heartbeat = profile.heartbeat if profile is not None else DEFAULT_HEARTBEAT
    login = options.login if options.login is not None else profile is None or profile.login
    url = options.url
    if url == DEFAULT_URL and profile is not None:
        url = f"http://127.0.0.1{profile.uris[0]}"
    options = dataclasses.replace(options, url=url, heartbeat=heartbeat, login=login)
    request = build_request(
        url,
        headers=list(options.headers) or None,
        timeout=options.timeout,
        insecure=options.insecure,
        resolve=list(options.resolve) or None,
        app=profile,
        model=options.model,
    )
    if profile is not None and options.model is None:
        request = with_listed_model(profile, request)  # the server's first model
    if options.cacert is not None:
        request = dataclasses.replace(request, cacert=options.cacert)
        make_ssl_context(options.insecure, request.cacert)  # an unreadable file fails here
    parsed = parse_url(url)
    path = parsed.raw_path.decode("ascii").split("?")[0] or "/"
    port = resolve_backend_port(options.backend_port, options.compose, profile).port
    direct_url = str(parse_url(options.direct or f"http://127.0.0.1:{port}{path}", "--direct"))
    check, check_error, reach_lines = _check(options, profile, parsed, request.resolve, path)
    plan = ProbePlan(
        request=request,
        versions=tuple(versions_to_probe(request.url, None)),
        direct_url=direct_url,
        login_password=os.environ.get(options.password_env, "") if login else None,
    )
    probe, probe_error = _probe(plan)
    local = _probe_local(plan, parsed, options.local) if probe is not None else None
    return dataclasses.replace(
        diagnose(check, check_error, probe, probe_error, local), reached=reach_lines
    )


def _check(
    options: DoctorOptions,
    profile: AppProfile | None,
    parsed: httpx.URL,
    resolve: Sequence[tuple[str, int, str]],
    path: str,
) -> tuple[CheckResult | None, str | None, list[str]]:
    try:
        loaded = load_config(list(options.config) or None)
        check_options = CheckOptions(
            uris=options.uris or (path,),
            server_name=options.server_name,
            backend_port=options.backend_port,
            compose=options.compose,
            heartbeat=options.heartbeat or DEFAULT_HEARTBEAT,
            app=profile,
        )
        if options.server_name is not None:  # an explicit --server-name chooses the block
            return run_check(loaded, check_options), None, []
        # the server this URL's request reaches, as nginx picks it: advice from no other site
        reach = url_reach(loaded, parsed.scheme, parsed.host, parsed.port, resolve)
        check_options = dataclasses.replace(
            check_options, host=reach.host, port=reach.port, tls=reach.tls
        )
        check = run_check(loaded, check_options)
        return check, None, reached(check, reach)
    except VersectlError as exc:
        return None, str(exc), []


def _probe(plan: ProbePlan) -> tuple[ProbeOutcome | None, tuple[str, str] | None]:
    try:
        return asyncio.run(run_plan(plan)), None
    except ProbeError as exc:
        return None, (exc.kind, str(exc))


def _probe_local(
    plan: ProbePlan, parsed: httpx.URL, option: str | None
) -> list[StreamAnalysis] | None:
    """The same request sent to this machine's nginx (same Host and SNI), to name the hops in
    front of it; None when the URL is already local or that probe cannot log in."""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    local_at = local_address(parsed.host, port, option)
    if local_at is None:
        return None
    local_plan = dataclasses.replace(
        plan,
        request=dataclasses.replace(plan.request, connect_to=local_at),
        versions=plan.versions[:1],
        direct_url=None,
    )
    try:
        return asyncio.run(run_plan(local_plan)).target
    except ProbeError:
        return None  # the login failed there: the hops stay unnamed
