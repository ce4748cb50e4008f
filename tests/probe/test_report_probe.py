"""probe-stream output: the contract's JSON keys, the timeline picture, the table."""

from __future__ import annotations

import io
import json

from rich.console import Console

from tests.probe.records import record_from_reads, steady
from versectl.probe.analysis import StreamAnalysis, analyze
from versectl.probe.attribution import Attribution, attribute
from versectl.probe.protocol import HttpVersion
from versectl.probe.record import ProbeFailure
from versectl.probe.runner import ProbeOutcome, TargetProbe
from versectl.report.probe import outcome_json, render_outcome, timeline


def _outcome(
    target: list[StreamAnalysis],
    direct: list[StreamAnalysis] | None = None,
    attribution: Attribution | None = None,
) -> ProbeOutcome:
    return ProbeOutcome([TargetProbe(HttpVersion.http1_1, "http1.1", target, attribution)], direct)


CONTRACT_KEYS = {
    "url", "status", "verdict", "error", "headers", "events", "bytes", "reads", "ttfb_ms",
    "ttft_ms", "duration_ms", "tokens_per_s", "itl_ms", "arrivals_ms", "advice",
}  # fmt: skip


def test_report_json_has_the_contract_keys_and_is_serializable() -> None:
    outcome = _outcome([analyze(record_from_reads(steady(20, 25.0)))])
    document = json.loads(json.dumps(outcome_json(outcome)))
    assert document["version"] == 1
    (result,) = document["results"]
    assert set(result) >= CONTRACT_KEYS
    assert result["verdict"] == "streaming" and result["error"] is None
    assert set(result["itl_ms"]) == {"p50", "p90", "p99", "max"}
    assert result["arrivals_ms"][:2] == [30.0, 55.0]
    assert {"content-type", "content-encoding", "x-accel-buffering", "via", "server"} <= set(
        result["headers"]
    )


def test_report_json_error_shape_and_several_streams() -> None:
    ok = analyze(record_from_reads(steady(20, 25.0)))
    failed = analyze(record_from_reads([], done=False, error=ProbeFailure("timeout", "late")))
    document = outcome_json(_outcome([ok, failed]))
    (result,) = document["results"]
    assert result["verdict"] == "error"
    assert result["error"] == {"kind": "timeout", "message": "late"}
    assert result["aggregate"]["verdicts"] == {"streaming": 1, "error": 1}
    assert [run["verdict"] for run in result["runs"]] == ["streaming", "error"]


def test_report_json_direct_result_and_attribution() -> None:
    target = [analyze(record_from_reads([(1030.0, 40)], headers_ms=1030.0))]
    direct = [analyze(record_from_reads(steady(40, 25.0)))]
    document = outcome_json(_outcome(target, direct, attribute(target, direct)))
    first, second = document["results"]
    assert (first["role"], second["role"]) == ("target", "direct")
    assert first["attribution"]["hop"] == "proxy"
    assert "attribution" not in second


def test_report_timeline_spread_vs_wall() -> None:
    spread = timeline([10.0 * i for i in range(100)], 1000.0, width=10)
    assert spread == "▄" * 10  # 10 events in each slice
    wall = timeline([999.0] * 200, 1000.0, width=10)
    assert wall == "·" * 9 + "█"
    assert timeline([], 0.0, width=5) == "·····"


def test_report_table_shows_verdict_evidence_and_timeline() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=False)
    record = record_from_reads([(1100.0, 39)], headers_ms=1100.0)
    render_outcome(_outcome([analyze(record)]), console)
    text = buffer.getvalue()
    assert "buffered" in text and "after 1.1 s of silence" in text
    assert "·····▆" in text and "proxy_buffering" in text  # dots, then a wall of 40 events
