"""`versectl doctor`: one diagnosis from the config check and the probes, direct and through nginx.

Neither half alone says what to do: a probe that streams can hide a config that holds any
backend without `X-Accel-Buffering: no`; a clean config says nothing of a CDN in front or a
config never reloaded. The advice here comes from reading both. An https URL is probed as a
browser (HTTP/2) and as an SDK (HTTP/1.1) and read with the client kinds check's findings name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from versectl.exit_codes import ExitCode
from versectl.nginx.check import CheckResult
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules import Family, rules_in, stale_reload
from versectl.probe.analysis import StreamAnalysis, aggregate
from versectl.probe.protocol import ALL_CLIENT_KINDS, CLIENT_WHO
from versectl.probe.runner import ProbeOutcome
from versectl.probe.verdict import Verdict

BUFFERING_RULES = rules_in(Family.buffering)
"""Rules whose findings explain a stream held after the backend."""
WIRING_RULES = rules_in(Family.routing)
"""Rules whose findings explain a proxy that cannot reach the backend (or reaches it wrong)."""
CACHE_RULES = rules_in(Family.cache)
"""Rules whose findings explain an old reply answered from a cache (the stream still streams:
TRUTH_MATRIX.md, "cache for POST")."""
HELD = (Verdict.buffered, Verdict.partial)
_HOW_HELD = {Verdict.buffered: "get it at the end", Verdict.partial: "get it in bursts"}


@dataclass(frozen=True)
class Diagnosis:
    """What doctor found: each half (or why it could not run), and the advice from both."""

    check: CheckResult | None
    check_error: str | None
    probe: ProbeOutcome | None
    probe_error: tuple[str, str] | None
    """(kind, message) when the probe could not even start (e.g. --login failed)."""
    advice: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    local: list[StreamAnalysis] | None = None
    """The same request to this machine's nginx (same Host/SNI): what the hops in front do."""
    reached: list[str] = field(default_factory=list)
    """Which server block the URL's request reaches, and why (versectl.nginx.url_reach)."""


def _where(found: Finding) -> str:
    return f"{found.rule} ({found.file}:{found.line})"


def _errors(check: CheckResult | None, rules: frozenset[str] | None = None) -> list[Finding]:
    if check is None:
        return []
    return [
        f
        for f in check.findings
        if f.severity is Severity.error and (rules is None or f.rule in rules)
    ]


def finding_clients(found: Finding) -> tuple[str, ...]:
    """The client kinds a finding affects (`Finding.clients`; every kind where not modelled)."""
    return tuple(str(kind) for kind in getattr(found, "clients", ALL_CLIENT_KINDS))


def verdicts_by_client(probe: ProbeOutcome | None) -> dict[str, Verdict]:
    """The aggregate verdict of the target for each client kind probed."""
    if probe is None:
        return {}
    return {t.client: aggregate(t.analyses).verdict for t in probe.targets if t.analyses}


def protocol_advice(findings: Sequence[Finding], by_client: dict[str, Verdict]) -> str | None:
    """When some client kinds stream and others are held: who, why, and does check agree."""
    held = {c: v for c, v in by_client.items() if v in HELD}
    streaming = [c for c, v in by_client.items() if v is Verdict.streaming]
    if not held or not streaming:
        return None
    probe_says = ", ".join(f"{CLIENT_WHO[c]} {_HOW_HELD[v]}" for c, v in held.items())
    probe_says += ", " + " and ".join(CLIENT_WHO[c] for c in streaming) + " stream"
    kinds = ", ".join(held)
    tls_hold = "http1.1+tls" in held and "h2" in streaming
    why = " (nginx's TLS buffer, ssl_buffer_size, while proxy_buffering is on)" if tls_hold else ""
    findings = [
        f
        for f in findings
        if f.rule in BUFFERING_RULES and f.severity in (Severity.error, Severity.warning)
    ]
    # a finding that names exactly the held kinds (and none that stream) is check agreeing
    naming = [
        f
        for f in findings
        if set(held) <= set(finding_clients(f)) and not set(streaming) & set(finding_clients(f))
    ]
    fix = ". `versectl fix --write` turns proxy_buffering off for the stream"
    if naming:
        where = ", ".join(_where(f) for f in naming)
        return f"check says held for {kinds} ({where}); the probe agrees: {probe_says}{why}{fix}"
    if findings:
        where = ", ".join(_where(f) for f in findings)
        return (
            f"the probe: {probe_says}{why}; check has {where} but does not say it holds only "
            f"{kinds}{fix}"
        )
    return (
        f"the probe: {probe_says}{why}; check names no buffering finding for {kinds}: look "
        "for another proxy or CDN in front, or a config edited but never reloaded"
    )


def _verdict(analyses: list[StreamAnalysis] | None) -> Verdict | None:
    return aggregate(analyses).verdict if analyses else None


def _first_error(analyses: list[StreamAnalysis] | None) -> str:
    for analysis in analyses or []:
        if analysis.record.error is not None:
            return f"{analysis.record.error.kind}: {analysis.record.error.message}"
    return "no stream"


def diagnose(
    check: CheckResult | None,
    check_error: str | None,
    probe: ProbeOutcome | None,
    probe_error: tuple[str, str] | None,
    local: list[StreamAnalysis] | None = None,
) -> Diagnosis:
    """Read the check and the probes together and say what to do, most useful advice first.
    `local`: the same request to this machine's nginx, to name a hop in front of it."""
    from versectl.doctor_hops import hop_advice

    advice: list[str] = []
    if probe is not None and probe.targets:
        advice += hop_advice(probe.targets[0].analyses, local)
    target = _verdict(probe.target) if probe else None
    direct = _verdict(probe.direct) if probe else None
    buffering = _errors(check, BUFFERING_RULES)
    wiring = _errors(check, WIRING_RULES)
    by_protocol = protocol_advice(check.findings if check else (), verdicts_by_client(probe))
    if check_error is not None:
        advice.append(f"the nginx config could not be checked: {check_error}")
    if probe_error is not None:
        advice.append(f"the stream could not be probed ({probe_error[0]}): {probe_error[1]}")
    if direct is Verdict.error:
        advice.append(
            f"the backend itself does not answer ({_first_error(probe.direct if probe else None)}): "
            "start it (make serve / docker compose -f docker-compose.prod.yml up -d) or pass "
            "--direct with its real address"
        )
    if target is Verdict.error:
        if wiring:
            advice.append(
                "nginx cannot reach the backend; the config says why: "
                + ", ".join(_where(f) for f in wiring)
                + ". `versectl fix --write` points the /api block at the right port"
            )
        else:
            advice.append(
                f"the stream through nginx failed ({_first_error(probe.target if probe else None)})"
            )
    elif by_protocol is not None:
        advice.append(by_protocol)
    elif target in (Verdict.buffered, Verdict.partial):
        if direct in (Verdict.buffered, Verdict.partial):
            advice.append(
                "the backend itself sends the answer in bursts: nginx is not the (only) cause; "
                "look at the backend's streaming code (sync generators, missing flush)"
            )
        elif buffering:
            advice.append(
                "nginx holds the stream, and the config explains it: "
                + ", ".join(_where(f) for f in buffering)
                + ". Run `versectl fix` to see the change, `versectl fix --write` to apply it"
            )
        else:
            advice.append(
                "the stream is held after the backend but this nginx config shows no cause: "
                "look for a CDN or another proxy in front (cf-ray / via headers), another server "
                "block answering (--server-name), or a config edited but never reloaded "
                f"({stale_reload.name}; `nginx -s reload`)"
            )
    elif target is Verdict.streaming:
        probed = set(verdicts_by_client(probe))
        # errors only for client kinds this probe did not stand for (e.g. TLS, probed over http)
        unprobed = [f for f in buffering if not probed & set(finding_clients(f))]
        relevant = [f for f in buffering if f not in unprobed]
        if relevant:
            advice.append(
                "the stream arrives token by token today, yet the config would hold a backend "
                "that does not send `X-Accel-Buffering: no` or chunked framing: "
                + ", ".join(_where(f) for f in relevant)
                + ". `versectl fix --write` makes it independent of the backend"
            )
        if unprobed:
            kinds = sorted({k for f in unprobed for k in finding_clients(f)})
            advice.append(
                f"check says held for {', '.join(kinds)} ("
                + ", ".join(_where(f) for f in unprobed)
                + "), clients this probe did not stand for: give doctor the https:// URL "
                "(it probes HTTP/2 and HTTP/1.1 over TLS there)"
            )
        if not buffering:
            advice.append("the stream arrives token by token through nginx")
    elif target is Verdict.inconclusive:
        advice.append("the answer was too short to tell; ask a longer question (-d) or use -n 5")
    cached = _errors(check, CACHE_RULES)
    if cached:
        advice.append(
            "a cache answers the chat request, so a later question can get an earlier reply: "
            + ", ".join(_where(f) for f in cached)
            + ". `versectl fix --write` turns the cache off for the stream"
        )
    other = [
        f for f in _errors(check) if f.rule not in BUFFERING_RULES | WIRING_RULES | CACHE_RULES
    ]
    if other:
        advice.append("other errors in the config: " + ", ".join(_where(f) for f in other))
    return Diagnosis(
        check, check_error, probe, probe_error, advice, _exit_code(check, target), local
    )


def _exit_code(check: CheckResult | None, target: Verdict | None) -> ExitCode:
    if target is None or target is Verdict.error:
        return ExitCode.BAD_INPUT
    if _errors(check) or target in (Verdict.buffered, Verdict.partial):
        return ExitCode.FINDINGS
    if target is Verdict.inconclusive:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK
