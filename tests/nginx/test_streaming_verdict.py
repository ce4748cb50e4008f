"""The truth matrix's verdict on synthetic timings: held, bursts (partial), streams, cut."""

from __future__ import annotations

import pytest

from tests.nginx.streaming import TIMELY, Reading, verdict

SENT = [i * 0.1 for i in range(40)]  # 40 events 100 ms apart, as the ssl_buffer_size rows


def reading(times: list[float], complete: bool = True) -> Reading:
    return Reading(status=200, times=times, sizes=[40] * len(times), complete=complete)


def test_verdict_streams_when_every_event_arrives_at_once() -> None:
    assert verdict(reading([t + 0.002 for t in SENT]), SENT) == "streams"


def test_verdict_streams_through_a_stall_shorter_than_half_the_answer() -> None:
    stalled = [t + (1.2 if 1.0 <= t < 2.0 else 0.002) for t in SENT]
    assert verdict(reading(stalled), SENT) == "streams"


def test_verdict_held_when_everything_comes_at_the_end() -> None:
    assert verdict(reading([SENT[-1] + 0.001] * 40), SENT) == "held"


@pytest.mark.parametrize("every", [23, 12])
def test_verdict_partial_for_bursts(every: int) -> None:
    """A 1k TLS buffer: nothing until it fills, then the collected events at once."""
    times = [SENT[min(len(SENT) - 1, (i // every + 1) * every - 1)] + 0.001 for i in range(40)]
    assert every * 0.1 > TIMELY
    assert verdict(reading(times), SENT) == "partial"


def test_verdict_cut_and_error() -> None:
    assert verdict(reading(SENT[:5], complete=False), SENT) == "cut"
    assert verdict(Reading(error="refused"), SENT) == "error"
