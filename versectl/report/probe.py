"""probe-stream output: the JSON document, the summary table and the arrival timeline.

The live view, drawn while streams run, is in versectl/report/probe_live.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from versectl.probe.analysis import Aggregate, StreamAnalysis, aggregate, representative
from versectl.probe.attribution import Attribution
from versectl.probe.protocol import CLIENT_LABELS
from versectl.probe.runner import ProbeOutcome, TargetProbe
from versectl.probe.timing import Percentiles
from versectl.report.output import literal

JSON_VERSION = 1
REPORTED_HEADERS = (
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "x-accel-buffering",
    "cache-control",
    "connection",
    "via",
    "server",
)
CDN_HEADERS = ("cf-ray", "cf-cache-status", "x-cache", "x-served-by", "x-amz-cf-id", "age")
MAX_BURSTS_IN_JSON = 200
TIMELINE_WIDTH = 60
LABEL_WIDTH = 22
_LEVELS = "▁▂▃▄▅▆▇█"
_VERDICT_STYLE = {
    "streaming": "bold green",
    "buffered": "bold red",
    "partial": "bold yellow",
    "inconclusive": "bold blue",
    "error": "bold red",
}


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _pct(p: Percentiles | None) -> dict[str, float] | None:
    return None if p is None else {k: round(v, 3) for k, v in p.as_dict().items()}


def stream_json(analysis: StreamAnalysis) -> dict[str, Any]:
    """One stream, with the contract's keys first, then the extras."""
    record, stats, judgement = analysis.record, analysis.stats, analysis.judgement
    headers = {name: record.headers.get(name) for name in REPORTED_HEADERS}
    headers.update({name: record.headers[name] for name in CDN_HEADERS if name in record.headers})
    error = record.error
    return {
        "url": record.url,
        "status": record.status,
        "verdict": str(judgement.verdict),
        "error": None if error is None else {"kind": error.kind, "message": error.message},
        "headers": headers,
        "events": stats.events,
        "bytes": record.body_bytes,
        "reads": stats.reads,
        "ttfb_ms": _r(stats.ttfb_ms),
        "ttft_ms": _r(stats.ttft_ms),
        "duration_ms": _r(stats.duration_ms),
        "tokens_per_s": _r(stats.tokens_per_s),
        "itl_ms": _pct(stats.itl_ms),
        "arrivals_ms": [round(ms, 3) for ms in stats.arrivals_ms],
        "arrivals_truncated": record.truncated,
        "advice": analysis.advice,
        "evidence": judgement.evidence,
        "final_url": record.final_url,
        "redirects": [
            {"status": r.status, "url": r.url, "location": r.location, "dropped": list(r.dropped)}
            for r in record.redirects
        ],
        "http_version": record.http_version or record.asked_version,
        "connect_ms": _r((record.connected_ns - record.started_ns) / 1e6)
        if record.connected_ns
        else None,
        "tokens": stats.tokens,
        "text_chars": stats.text_chars,
        "ttst_ms": _r(stats.ttst_ms),
        "decode_tokens_per_s": _r(stats.decode_tokens_per_s),
        "decoded_bytes": record.decoded_bytes,
        "events_per_read": _r(stats.events_per_read),
        "max_events_per_read": stats.max_events_per_read,
        "bursts": [
            {
                "start_ms": round(b.start_ms, 3),
                "events": b.events,
                "bytes": b.bytes,
                "silence_ms": round(b.silence_ms, 3),
            }
            for b in stats.bursts[:MAX_BURSTS_IN_JSON]
        ],
        "comments": record.comments,
        "invalid_utf8": record.invalid_utf8,
        "terminated": stats.terminated,
    }


def _aggregate_json(agg: Aggregate) -> dict[str, Any]:
    return {
        "streams": agg.streams,
        "verdicts": agg.verdicts,
        "ttfb_ms": _pct(agg.ttfb_ms),
        "ttft_ms": _pct(agg.ttft_ms),
        "itl_ms": _pct(agg.itl_ms),
        "tokens_per_s": _pct(agg.tokens_per_s),
        "duration_ms": _pct(agg.duration_ms),
    }


def result_json(
    analyses: Sequence[StreamAnalysis],
    role: str,
    attribution: Attribution | None = None,
    client: str | None = None,
) -> dict[str, Any]:
    """One URL over one HTTP version: the stream shown in detail, plus the aggregate and every
    run when several. `client`: the client kind the streams stand for (targets only)."""
    agg = aggregate(analyses)
    shown = representative(analyses, agg.verdict)
    result = stream_json(shown)
    result["verdict"] = str(agg.verdict)
    result["role"] = role
    if client is not None:
        result["client"] = client
    result["streams"] = agg.streams
    if agg.streams > 1:
        result["aggregate"] = _aggregate_json(agg)
        result["runs"] = [
            {
                "verdict": str(a.judgement.verdict),
                "evidence": a.judgement.evidence,
                "error": None
                if a.record.error is None
                else {"kind": a.record.error.kind, "message": a.record.error.message},
                "events": a.stats.events,
                "ttfb_ms": _r(a.stats.ttfb_ms),
                "ttft_ms": _r(a.stats.ttft_ms),
                "duration_ms": _r(a.stats.duration_ms),
                "tokens_per_s": _r(a.stats.tokens_per_s),
            }
            for a in analyses
        ]
    if attribution is not None:
        result["attribution"] = {
            "hop": attribution.hop,
            "summary": attribution.summary,
            "added_ttft_ms": _r(attribution.added_ttft_ms),
            "added_ms_per_token": _r(attribution.added_ms_per_token),
            "clients": list(attribution.clients),
        }
    return result


def outcome_json(outcome: ProbeOutcome) -> dict[str, Any]:
    """The target over each HTTP version (HTTP/2 first), then --direct's result."""
    results = [result_json(t.analyses, "target", t.attribution, t.client) for t in outcome.targets]
    if outcome.direct is not None:
        results.append(result_json(outcome.direct, "direct"))
    return {"version": JSON_VERSION, "results": results}


def timeline(arrivals_ms: Sequence[float], end_ms: float, width: int = TIMELINE_WIDTH) -> str:
    """One character per 1/width of [0, end_ms]: '·' nothing arrived, else a block whose height
    grows with log2 of the events in that slice (1: ▁, 2-3: ▂, 4-7: ▃ ... 128+: █).

    The scale is absolute so that pictures compare: a healthy stream is a low even band; a
    buffered one is dots ending in a wall.
    """
    counts = [0] * width
    if end_ms > 0:
        for ms in arrivals_ms:
            counts[min(width - 1, max(0, int(ms / end_ms * width)))] += 1
    return "".join(
        "·" if c == 0 else _LEVELS[min(len(_LEVELS) - 1, c.bit_length() - 1)] for c in counts
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def _stream_table(result: StreamAnalysis, agg: Aggregate, title: str, width: int) -> Table:
    record, stats, judgement = result.record, result.stats, result.judgement
    verdict = str(agg.verdict)
    table = Table(title=title, show_header=False, box=None, pad_edge=False, title_justify="left")
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    table.add_row("verdict", Text(verdict, style=_VERDICT_STYLE[verdict]))
    table.add_row("evidence", literal(judgement.evidence))
    status = "-" if record.status is None else str(record.status)
    for redirect in record.redirects:
        status += f"  (after {redirect.status} -> {literal(redirect.location)}"
        if redirect.dropped:  # another origin: credentials stayed home
            status += f"; not sent there: {literal(', '.join(redirect.dropped))}"
        status += ")"
    table.add_row("status", status)
    shown = {k: v for k in (*REPORTED_HEADERS, *CDN_HEADERS) if (v := record.headers.get(k))}
    table.add_row("headers", literal("; ".join(f"{k}: {v}" for k, v in shown.items())) or "-")
    if record.status is None:  # nothing came back: the other rows would be dashes
        for line in result.advice:
            table.add_row("advice", literal(line))
        return table
    table.add_row(
        "ttfb / ttft",
        f"{_ms(stats.ttfb_ms)} / {_ms(stats.ttft_ms)}  (2nd token {_ms(stats.ttst_ms)})",
    )
    itl = stats.itl_ms
    if itl is not None:
        table.add_row(
            "itl p50/p90/p99/max",
            f"{itl.p50:.1f} / {itl.p90:.1f} / {itl.p99:.1f} / {itl.max:.1f} ms",
        )
    rate = "-" if stats.tokens_per_s is None else f"{stats.tokens_per_s:.1f} tokens/s"
    table.add_row("duration", f"{_ms(stats.duration_ms)}  ({rate})")
    table.add_row(
        "events",
        f"{_n(stats.events, 'event')}, {_n(stats.tokens, 'token')}, {record.body_bytes} B in "
        f"{_n(stats.reads, 'read')} (max {stats.max_events_per_read} events per read, "
        f"{_n(len(stats.bursts), 'burst')})",
    )
    if record.truncated:
        table.add_row("", f"(timings kept for the first {_n(len(record.arrivals), 'event')})")
    if agg.streams > 1:
        counts = ", ".join(f"{n} {v}" for v, n in agg.verdicts.items())
        table.add_row("streams", f"{agg.streams}: {counts}")
        if agg.ttft_ms is not None:
            table.add_row(
                "ttft p50/p90/max",
                f"{agg.ttft_ms.p50:.1f} / {agg.ttft_ms.p90:.1f} / {agg.ttft_ms.max:.1f} ms",
            )
        if agg.itl_ms is not None:
            table.add_row("itl pooled p50/p99", f"{agg.itl_ms.p50:.1f} / {agg.itl_ms.p99:.1f} ms")
    end = stats.duration_ms or (stats.arrivals_ms[-1] if stats.arrivals_ms else 0.0)
    if stats.arrivals_ms:
        table.add_row("timeline", Text(timeline(stats.arrivals_ms, end, width), style="cyan"))
        table.add_row("", f"0{_ms(end):>{width - 1}}")
    for line in result.advice:
        table.add_row("advice", literal(line))
    return table


def _side_by_side(targets: Sequence[TargetProbe], console_width: int) -> Table:
    """One column per HTTP version: who streams and who does not, at a glance."""
    columns = len(targets)
    width = max(12, min(TIMELINE_WIDTH, (console_width - LABEL_WIDTH) // columns - 3))
    table = Table(
        title="[bold]verdict per client[/]", box=None, pad_edge=False, title_justify="left"
    )
    table.add_column(style="dim", no_wrap=True)
    rows: dict[str, list[Text | str]] = {
        "verdict": [],
        "answered in": [],
        "ttfb / ttft": [],
        "itl p50/max": [],
        "timeline": [],
        "evidence": [],
    }
    for probe in targets:
        agg = aggregate(probe.analyses)
        shown = representative(probe.analyses, agg.verdict)
        stats, record = shown.stats, shown.record
        table.add_column(literal(CLIENT_LABELS.get(probe.client, probe.client)), max_width=width)
        verdict = str(agg.verdict)
        rows["verdict"].append(Text(verdict, style=_VERDICT_STYLE[verdict]))
        rows["answered in"].append(record.http_version or "-")
        rows["ttfb / ttft"].append(f"{_ms(stats.ttfb_ms)} / {_ms(stats.ttft_ms)}")
        itl = stats.itl_ms
        rows["itl p50/max"].append("-" if itl is None else f"{itl.p50:.1f} / {itl.max:.1f} ms")
        end = stats.duration_ms or (stats.arrivals_ms[-1] if stats.arrivals_ms else 0.0)
        picture = timeline(stats.arrivals_ms, end, width) if stats.arrivals_ms else "-"
        rows["timeline"].append(Text(picture, style="cyan"))
        rows["evidence"].append(literal(shown.judgement.evidence))
    for label, cells in rows.items():
        table.add_row(label, *cells)
    return table


def render_outcome(outcome: ProbeOutcome, console: Console) -> None:
    width = max(20, min(TIMELINE_WIDTH, console.width - LABEL_WIDTH))
    several = len(outcome.targets) > 1
    if several:
        console.print(_side_by_side(outcome.targets, console.width))
        console.print()
    groups: list[tuple[str, list[StreamAnalysis], Attribution | None]] = [
        (
            f"{CLIENT_LABELS.get(t.client, t.client)}" if several else "through the target",
            t.analyses,
            t.attribution,
        )
        for t in outcome.targets
    ]
    if outcome.direct is not None:
        groups.append(("direct to the backend", outcome.direct, None))
    for label, analyses, _attribution in groups:
        agg = aggregate(analyses)
        shown = representative(analyses, agg.verdict)
        title = f"[bold]{literal(shown.record.url)}[/] - {literal(label)}"
        console.print(_stream_table(shown, agg, title, width))
        console.print()
    for label, _analyses, attribution in groups:
        if attribution is not None:
            prefix = f" ({literal(label)})" if several else ""
            console.print(f"[bold]attribution{prefix}:[/] {literal(attribution.summary)}")
