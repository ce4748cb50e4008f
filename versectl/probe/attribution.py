"""`--direct`: compare the backend probed directly with the same stream through the proxy,
and name the hop that holds it, with the latency the hops add per token. Over TLS, compare
HTTP/2 with HTTP/1.1 too: a stream held for one of them only is held by that protocol's layer."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from versectl.probe.advice import cdns
from versectl.probe.analysis import SEVERITY, StreamAnalysis
from versectl.probe.verdict import Verdict

HELD_HEADERS_MS = 500.0


@dataclass(frozen=True, slots=True)
class Attribution:
    hop: str
    """"proxy" (the hops after the backend), "backend", "none" (both stream) or "unknown"."""
    summary: str
    added_ttft_ms: float | None
    added_ms_per_token: float | None
    """Median over tokens of (arrival through the proxy - arrival direct), index by index,
    both from their request being sent. Two runs are two generations: it carries the
    backend's run-to-run variance too (-n evens it out)."""
    clients: tuple[str, ...] = ()
    """The client kinds held when the others stream (a protocol-dependent hold), else ()."""


HELD = (Verdict.buffered, Verdict.partial)
TLS_BUFFER_HOLD = (
    "held for HTTP/1.1 over TLS only: nginx's TLS buffer (ssl_buffer_size) while "
    "proxy_buffering is on"
)
"""nginx 1.22 measured (tests/e2e): with proxy_buffering on, a chunked answer reaches an
HTTP/1.1-over-TLS client when ssl_buffer_size (16 KiB) fills or the answer ends, headers
included, while HTTP/2 and plain HTTP/1.1 clients get every chunk as it comes."""
H2_HOLD = (
    "held for HTTP/2 only: what speaks HTTP/2 to the client buffers (a CDN or proxy in front, "
    "nginx's http2 settings)"
)


def protocol_hold(client: str, verdicts: Mapping[str, Verdict]) -> Attribution | None:
    """When `client`'s streams are held and another client kind's stream: say which layer.

    `verdicts`: the aggregate verdict per client kind probed ("h2", "http1.1+tls", ...).
    """
    verdict = verdicts.get(client)
    streaming = [c for c, v in verdicts.items() if c != client and v is Verdict.streaming]
    if verdict not in HELD or not streaming:
        return None
    if client == "http1.1+tls":
        summary = (
            f"{TLS_BUFFER_HOLD}; HTTP/2 (browsers) streams. Fix: 'proxy_buffering off;' in "
            "the /api location (or X-Accel-Buffering: no from the backend)"
        )
    elif client == "h2":
        summary = f"{H2_HOLD}; HTTP/1.1 over TLS streams"
    else:
        return None
    return Attribution("proxy", summary, None, None, (client,))


def _verdict(analyses: Sequence[StreamAnalysis]) -> Verdict:
    found = {a.judgement.verdict for a in analyses}
    return next(v for v in SEVERITY if v in found)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _suspects(proxied: StreamAnalysis, direct: StreamAnalysis) -> str:
    """The most likely cause first, from what the two responses show."""
    headers = proxied.record.headers
    encoding = headers.get("content-encoding")
    held_headers = (proxied.stats.ttfb_ms or 0) >= HELD_HEADERS_MS + (direct.stats.ttfb_ms or 0)
    if encoding and not direct.record.headers.get("content-encoding"):
        nginx = f"{encoding} of text/event-stream: gzip_types"
    elif held_headers and proxied.record.over_tls_http1:
        nginx = (
            "the headers were held too: its TLS buffer (ssl_buffer_size) while proxy_buffering "
            "is on, or buffering with an HTTP/1.0 upstream"
        )
    elif held_headers:
        nginx = "buffering with an HTTP/1.0 upstream: the headers were held too"
    elif direct.record.headers.get("x-accel-buffering", "").lower() != "no":
        nginx = "proxy_buffering: the backend sends no X-Accel-Buffering: no"
    else:
        nginx = "gzip? buffering with HTTP/1.0 upstream? proxy_ignore_headers X-Accel-Buffering?"
    seen = cdns(headers)
    cdn = f"a CDN ({', '.join(seen)} seen)" if seen else "a CDN (none seen in the headers)"
    return f"look at nginx ({nginx}) or {cdn}"


def attribute(
    target: Sequence[StreamAnalysis],
    direct: Sequence[StreamAnalysis],
    hold: Attribution | None = None,
) -> Attribution:
    """`hold`: the protocol-dependent hold of `target`'s client kind, when there is one."""
    proxied_verdict, direct_verdict = _verdict(target), _verdict(direct)
    pairs = list(zip(target, direct, strict=False))
    ttft = [
        p.stats.ttft_ms - d.stats.ttft_ms
        for p, d in pairs
        if p.stats.ttft_ms is not None and d.stats.ttft_ms is not None
    ]
    per_token = [
        pt - dt
        for p, d in pairs
        for pt, dt in zip(p.stats.token_ms, d.stats.token_ms, strict=False)
    ]
    added_ttft, added_token = _median(ttft), _median(per_token)
    latency = (
        f"; {added_token:+.1f} ms per token, {added_ttft:+.1f} ms to the first"
        if added_token is not None and added_ttft is not None
        else ""
    )
    held = HELD
    if direct_verdict is Verdict.error:
        message = direct[0].record.error.message if direct[0].record.error else "error"
        return Attribution(
            "unknown", f"the backend could not be probed directly: {message}", None, None
        )
    if direct_verdict in held:
        return Attribution(
            "backend",
            f"the backend itself is {direct_verdict} when probed directly: fix the app (flush "
            "every event; no buffering middleware), not the proxy",
            added_ttft,
            added_token,
        )
    if direct_verdict is Verdict.inconclusive:
        return Attribution(
            "unknown",
            "the direct stream was too short to tell: ask for a longer answer",
            None,
            None,
        )
    if proxied_verdict is Verdict.error:
        failure = target[0].record.error
        reason = f"{failure.kind}: {failure.message}" if failure else "error"
        return Attribution(
            "proxy", f"streams at the backend, fails through the proxy ({reason})", None, None
        )
    if proxied_verdict in held and hold is not None:
        return Attribution(
            hold.hop,
            f"streams at the backend, {proxied_verdict} after it: {hold.summary}{latency}",
            added_ttft,
            added_token,
            hold.clients,
        )
    if proxied_verdict in held:
        culprit = next(a for a in target if a.judgement.verdict is proxied_verdict)
        return Attribution(
            "proxy",
            f"streams at the backend, {proxied_verdict} after it: "
            f"{_suspects(culprit, direct[0])}{latency}",
            added_ttft,
            added_token,
        )
    if proxied_verdict is Verdict.inconclusive:
        return Attribution(
            "unknown",
            f"streams at the backend; through the proxy too short to tell{latency}",
            added_ttft,
            added_token,
        )
    return Attribution(
        "none", f"streams at the backend and through the proxy{latency}", added_ttft, added_token
    )
