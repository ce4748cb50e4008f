"""What to look at next, from a stream's verdict, headers and timings: short, actionable lines."""

from __future__ import annotations

from versectl.probe.record import StreamRecord
from versectl.probe.timing import StreamStats
from versectl.probe.verdict import Judgement, Verdict

CDN_MARKS: dict[str, str] = {
    "cf-ray": "Cloudflare",
    "x-amz-cf-id": "CloudFront",
    "x-served-by": "Fastly",
    "x-vercel-id": "Vercel",
    "fly-request-id": "Fly.io",
    "x-azure-ref": "Azure Front Door",
    "akamai-grn": "Akamai",
}
HELD_HEADERS_MS = 500.0


def cdns(headers: dict[str, str]) -> list[str]:
    """CDNs and edge proxies that left a mark in the response headers."""
    return [name for mark, name in CDN_MARKS.items() if mark in headers]


def advice(record: StreamRecord, stats: StreamStats, judgement: Judgement) -> list[str]:
    # rule names come from the catalog (a rename reaches the advice); imported here because a
    # probe that streams never needs them
    from versectl.nginx.rules import gzip_event_stream, http_version, proxy_buffering

    lines: list[str] = []
    headers = record.headers
    verdict = judgement.verdict
    if record.error is not None:
        lines += _error_advice(record)
    held = verdict in (Verdict.buffered, Verdict.partial)
    encoding = headers.get("content-encoding")
    if held and encoding:
        lines.append(
            f"the stream is {encoding}-compressed and held: a compressing proxy buffers it "
            f"(nginx: drop text/event-stream from gzip_types; rule {gzip_event_stream.name})"
        )
    if held and headers.get("x-accel-buffering", "").lower() != "no":
        # nginx never shows X-Accel-Buffering to clients: only --direct sees what the backend sent
        lines.append(
            "nginx buffers a proxied response unless the /api location has 'proxy_buffering "
            f"off;' or the backend sends 'X-Accel-Buffering: no' (rule {proxy_buffering.name}; "
            "--direct shows the backend's headers)"
        )
    if (
        held
        and not encoding  # a compressing proxy holds the headers with the body anyway
        and stats.ttfb_ms is not None
        and stats.ttfb_ms >= HELD_HEADERS_MS
        and stats.ttft_ms is not None
        and stats.ttft_ms - stats.ttfb_ms < 5
    ):
        if record.over_tls_http1:
            cause = (
                "over TLS, nginx's TLS buffer (ssl_buffer_size, 16 KiB) holds the headers with "
                "the body while proxy_buffering is on (compare --http2); or a bare proxy_pass "
                f"talks HTTP/1.0 to the backend (rule {http_version.name})"
            )
        else:
            cause = (
                "a proxy waited for its buffer to fill; with a bare proxy_pass nginx talks "
                f"HTTP/1.0 to the backend (rule {http_version.name})"
            )
        lines.append(
            f"even the headers were held ({stats.ttfb_ms:.0f} ms, with the first events): {cause}"
        )
    if record.asked_version == "HTTP/2" and record.http_version == "HTTP/1.1":
        lines.append(
            "the server did not offer HTTP/2 (ALPN chose http/1.1): browsers get HTTP/1.1 "
            "over TLS here too"
        )
    from versectl.probe.hops import front_hops  # hops imports CDN_MARKS from here

    for hop in front_hops(headers):
        if held or record.status == 524 or (record.error and record.error.kind == "timeout"):
            lines.append(
                f"{hop.name} is in the path ({hop.evidence}): {hop.remedy}; probe the origin "
                "with --direct (doctor: --local) to see whether it is the hop that holds"
            )
    if held:
        lines.append(
            "benchmarks that time parsed events read this as lower inter-token latency and "
            "higher TTFT: a proxy cannot make generation faster"
        )
    if record.error is None and stats.events and not stats.terminated:
        lines.append("the stream ended without a terminator event (done/[DONE]): was it cut short?")
    if record.unfinished_bytes:
        lines.append(f"{record.unfinished_bytes} bytes after the last complete event were dropped")
    if record.invalid_utf8:
        lines.append(f"{record.invalid_utf8} invalid UTF-8 sequences were replaced with U+FFFD")
    if verdict is Verdict.inconclusive:
        lines.append('ask for a longer answer (-d \'{"message": "..."}\') or use -n to repeat')
    return lines


def _error_advice(record: StreamRecord) -> list[str]:
    from versectl.nginx.rules import missing_location, port_mismatch

    assert record.error is not None
    kind = record.error.kind
    if kind == "http" and record.status == 401:
        return [
            "the endpoint wants a session: add --login (VERSE_PASSWORD) or -b 'verse_session=...'"
        ]
    if kind == "http" and record.status in (502, 504):
        return [
            "the proxy could not reach the backend: check proxy_pass's port "
            f"(rule {port_mismatch.name})"
        ]
    if kind == "http" and record.status == 524:
        return [
            "HTTP 524: Cloudflare gave up on the origin after ~100 s without a byte; the "
            "backend must send a heartbeat sooner (a `: ping` every 15-30 s)"
        ]
    if kind == "http" and record.status == 404:
        return [
            f"no such route: check the URL and the proxy's location (rule {missing_location.name})"
        ]
    if kind == "not_sse" and "text/html" in record.headers.get("content-type", ""):
        return ["an HTML page came back: the proxy answered itself or the URL is wrong"]
    if kind == "timeout" and record.arrivals:
        return ["the stream stayed open past --timeout: raise it for long answers"]
    if kind == "timeout":
        return [
            "nothing arrived before --timeout: a proxy holding the whole answer, or a hung backend"
        ]
    if kind == "tls":
        return ["check the certificate and the scheme (an http:// server addressed as https://?)"]
    return []
