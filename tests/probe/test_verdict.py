"""Verdicts from arrival patterns: each case is the shape a real path produces (tests/e2e)."""

from __future__ import annotations

from tests.probe.records import record_from_reads, steady
from versectl.probe.record import ProbeFailure, StreamRecord
from versectl.probe.timing import stream_stats
from versectl.probe.verdict import Judgement, Verdict, judge


def _judge(record: StreamRecord) -> Judgement:
    return judge(record, stream_stats(record))


def test_verdict_streaming_when_events_spread() -> None:
    result = _judge(record_from_reads(steady(40, 25.0)))
    assert result.verdict is Verdict.streaming
    assert "41 events over" in result.evidence


def test_verdict_buffered_when_held_to_the_end() -> None:
    result = _judge(record_from_reads([(1100.0, 39)], headers_ms=2.0))
    assert result.verdict is Verdict.buffered
    assert result.evidence == "40 events, all 40 in one read after 1.1 s of silence"


def test_verdict_buffered_when_most_events_come_in_a_late_burst() -> None:
    reads = [(30.0, 1), (60.0, 1), *[(1200.0 + 0.1 * i, 5) for i in range(8)]]
    result = _judge(record_from_reads(reads))
    assert result.verdict is Verdict.buffered
    assert "41 of them in the last" in result.evidence


def test_verdict_partial_when_released_in_buffer_sized_bursts() -> None:
    reads = [(400.0 * (i + 1), 100) for i in range(4)]  # ~4 KiB each, 0.4 s apart
    result = _judge(record_from_reads(reads, event_bytes=40))
    assert result.verdict is Verdict.partial
    assert "4 bursts" in result.evidence and "KiB" in result.evidence


def test_verdict_many_events_per_read_without_silence_still_streams() -> None:
    """A fast model fills reads (uvicorn disables Nagle; the client may lag): no silence, no
    buffering."""
    reads = [(30.0 + 8.0 * i, 4) for i in range(50)]
    result = _judge(record_from_reads(reads))
    assert result.verdict is Verdict.streaming


def test_verdict_inconclusive_when_the_whole_answer_is_fast() -> None:
    result = _judge(record_from_reads(steady(10, 5.0, first_ms=20.0)))
    assert result.verdict is Verdict.inconclusive
    assert "too short to tell" in result.evidence


def test_verdict_inconclusive_when_a_late_answer_arrives_in_a_moment_spread_over_reads() -> None:
    reads = [(1000.0 + 2.0 * i, 1) for i in range(20)]
    result = _judge(record_from_reads(reads))
    assert result.verdict is Verdict.inconclusive


def test_verdict_inconclusive_without_data_events() -> None:
    result = _judge(record_from_reads([], done=False))
    assert result.verdict is Verdict.inconclusive


def test_verdict_error_reports_events_seen() -> None:
    record = record_from_reads(
        steady(5, 30.0), error=ProbeFailure("timeout", "still open"), done=False
    )
    result = _judge(record)
    assert result.verdict is Verdict.error
    assert result.evidence == "timeout: still open (5 events before it)"
