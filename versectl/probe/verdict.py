"""Decide whether a stream streamed, from when its events arrived, and say why in one line.

Tuned on real nginx (tests/e2e): a held stream arrives as one burst at the end after a long
silence; nginx's default buffering releases a long stream in buffer-sized bursts (~4 KiB).
Many events in one read alone prove nothing (uvicorn disables Nagle, a fast model fills a read):
a burst counts as buffering evidence only when a long silence precedes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from versectl.probe.record import StreamRecord
from versectl.probe.timing import Burst, StreamStats

MIN_ANSWER_MS = 200.0
"""A whole answer faster than this cannot tell a buffer from a fast model."""
MIN_EVENTS = 3
HELD_SHARE = 0.8
"""A final burst with this share of the events, after a long silence: the stream was held."""
LONG_SILENCE_MS = 50.0
"""Longer than any healthy gap between two tokens of a chat model (25-40 ms at ~30 tok/s)."""
BURST_EVENTS = 3
"""A burst of at least this many events, after a long silence, is a buffer being flushed."""
BURSTY_SHARE = 0.5


class Verdict(StrEnum):
    streaming = "streaming"
    buffered = "buffered"
    partial = "partial"
    inconclusive = "inconclusive"
    error = "error"


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    evidence: str


def judge(record: StreamRecord, stats: StreamStats) -> Judgement:
    """The verdict and its one-line evidence."""
    n = stats.events
    if record.error is not None:
        seen = f" ({_events(n)} before it)" if n else ""
        return Judgement(Verdict.error, f"{record.error.kind}: {record.error.message}{seen}")
    if n == 0:
        return Judgement(Verdict.inconclusive, "the stream ended without a single data event")
    last_ms = stats.arrivals_ms[-1]
    if last_ms < MIN_ANSWER_MS:
        return Judgement(
            Verdict.inconclusive,
            f"the whole answer ({_events(n)}) arrived within {_dur(last_ms)} of the request: "
            f"too short to tell streaming from buffering (ask for a longer answer)",
        )
    if n < MIN_EVENTS:
        return Judgement(Verdict.inconclusive, f"only {_events(n)}: too few to tell")
    final = stats.bursts[-1]
    if final.events >= HELD_SHARE * n and final.silence_ms >= LONG_SILENCE_MS:
        where = (
            "in one read"
            if final.reads == 1
            else f"in the last {_dur(final.end_ms - final.start_ms)}"
        )
        share = f"all {n}" if final.events == n else f"{final.events} of them"
        return Judgement(
            Verdict.buffered,
            f"{_events(n)}, {share} {where} after {_dur(final.silence_ms)} of silence",
        )
    flushed = [
        b for b in stats.bursts if b.events >= BURST_EVENTS and b.silence_ms >= LONG_SILENCE_MS
    ]
    if len(flushed) >= 2 and sum(b.events for b in flushed) >= BURSTY_SHARE * n:
        return Judgement(Verdict.partial, _partial_evidence(n, flushed))
    span = last_ms - stats.arrivals_ms[0]
    if span < MIN_ANSWER_MS:
        return Judgement(
            Verdict.inconclusive,
            f"{_events(n)} arrived within {_dur(span)} after {_dur(stats.arrivals_ms[0])}: "
            "too short to tell (ask for a longer answer)",
        )
    longest = max(b.silence_ms for b in stats.bursts[1:]) if len(stats.bursts) > 1 else 0.0
    return Judgement(
        Verdict.streaming,
        f"{_events(n)} over {_dur(span)} in {stats.reads} reads, at most "
        f"{stats.max_events_per_read} per read; longest silence {_dur(longest)}",
    )


def _partial_evidence(n: int, flushed: list[Burst]) -> str:
    sizes = sorted(b.bytes for b in flushed)
    median_bytes = sizes[len(sizes) // 2]
    events = round(sum(b.events for b in flushed) / len(flushed))
    starts = [b.start_ms for b in flushed]
    spacing = (starts[-1] - starts[0]) / (len(starts) - 1)
    return (
        f"{_events(n)} in {len(flushed)} bursts of ~{events} events (~{_size(median_bytes)} each)"
        f" {_dur(spacing)} apart, with silence between them"
    )


def _events(n: int) -> str:
    return f"{n} event" if n == 1 else f"{n} events"


def _dur(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    if ms >= 10:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} B"
