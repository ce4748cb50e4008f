"""Stream numbers: percentiles, TTFB vs TTFT, tokens vs events, bursts."""

from __future__ import annotations

import json
import statistics

import pytest

from tests.probe.records import record_from_reads, steady
from versectl.probe.record import Arrival
from versectl.probe.timing import percentile, stream_stats, token_arrivals, token_text


def test_timing_percentile_matches_statistics_inclusive_quantiles() -> None:
    values = sorted([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.3, 5.8, 9.7, 0.2])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (10, 50, 90, 99):
        assert percentile(values, q) == pytest.approx(cuts[q - 1])
    assert percentile(values, 100) == max(values)
    assert percentile([7.0], 50) == 7.0


def test_timing_steady_stream_numbers() -> None:
    stats = stream_stats(record_from_reads(steady(40, 25.0, first_ms=30.0), headers_ms=3.0))
    assert stats.events == 41 and stats.tokens == 40
    assert stats.ttfb_ms == pytest.approx(3.0)
    assert stats.ttft_ms == pytest.approx(30.0)
    assert stats.ttst_ms == pytest.approx(55.0)
    assert stats.itl_ms is not None
    assert stats.itl_ms.p50 == pytest.approx(25.0) and stats.itl_ms.max == pytest.approx(25.0)
    assert stats.max_events_per_read == 2  # the last token and `done`
    assert len(stats.bursts) == 40
    assert stats.terminated
    assert stats.text_chars == sum(len(f"word{i} ") for i in range(40))


def test_timing_buffered_stream_has_tiny_itl_and_late_ttft() -> None:
    """The signature benchmarks misread: a proxy cannot make generation faster."""
    stats = stream_stats(record_from_reads([(1100.0, 40)], headers_ms=1100.0))
    assert stats.ttft_ms == pytest.approx(1100.0)
    assert stats.itl_ms is not None and stats.itl_ms.max == 0.0
    assert len(stats.bursts) == 1 and stats.bursts[0].events == 41
    assert stats.bursts[0].silence_ms == pytest.approx(1100.0)


def _arrival(event: str, data: str) -> Arrival:
    return Arrival(0, 0, event, data, len(data))


def test_timing_tokens_are_token_events_when_present() -> None:
    arrivals = [
        _arrival("token", "{}"),
        _arrival("ping", "{}"),
        _arrival("message", "x"),
        _arrival("done", "{}"),
    ]
    assert [a.event for a in token_arrivals(arrivals)] == ["token"]


def test_timing_tokens_are_data_events_without_pings_and_terminators_otherwise() -> None:
    arrivals = [
        _arrival("message", '{"choices": [{"delta": {"content": "Hi"}}]}'),
        _arrival("ping", '{"type": "ping"}'),
        _arrival("message", "[DONE]"),
        _arrival("message_stop", "{}"),
    ]
    assert len(token_arrivals(arrivals)) == 1


def test_timing_anthropic_streams_count_deltas() -> None:
    delta = json.dumps(
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hey"}}
    )
    arrivals = [_arrival("message_start", "{}"), _arrival("content_block_delta", delta)]
    assert token_arrivals(arrivals) == [arrivals[1]]
    assert token_text(delta) == "Hey"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('{"text": "abc"}', "abc"),
        ('{"choices": [{"delta": {"content": "de"}}]}', "de"),
        ("plain words", "plain words"),
        ('{"other": 1}', ""),
        ("[1, 2]", ""),
    ],
)
def test_timing_token_text_shapes(data: str, text: str) -> None:
    assert token_text(data) == text


def test_timing_no_events_gives_no_percentiles() -> None:
    stats = stream_stats(record_from_reads([], done=False))
    assert stats.events == 0 and stats.itl_ms is None and stats.ttft_ms is None
