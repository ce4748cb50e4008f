"""One stream's full reading (numbers, verdict, advice), and the aggregate of several streams."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from versectl.probe.advice import advice
from versectl.probe.record import StreamRecord
from versectl.probe.timing import Percentiles, StreamStats, percentiles, stream_stats
from versectl.probe.verdict import Judgement, Verdict, judge

SEVERITY = (
    Verdict.error,
    Verdict.buffered,
    Verdict.partial,
    Verdict.streaming,
    Verdict.inconclusive,
)
"""Several streams' verdict is the first of these that any stream got: one held stream in
ten is a finding; an inconclusive one among streaming ones is not."""


@dataclass(frozen=True, slots=True)
class StreamAnalysis:
    record: StreamRecord
    stats: StreamStats
    judgement: Judgement
    advice: list[str]


def analyze(record: StreamRecord) -> StreamAnalysis:
    stats = stream_stats(record)
    judgement = judge(record, stats)
    return StreamAnalysis(record, stats, judgement, advice(record, stats, judgement))


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Several streams to one URL (-n, -c): pooled percentiles, verdict counts."""

    streams: int
    verdicts: dict[str, int]
    verdict: Verdict
    ttfb_ms: Percentiles | None
    ttft_ms: Percentiles | None
    itl_ms: Percentiles | None
    tokens_per_s: Percentiles | None
    duration_ms: Percentiles | None


def aggregate(analyses: Sequence[StreamAnalysis]) -> Aggregate:
    counts = Counter(a.judgement.verdict for a in analyses)
    verdict = next(v for v in SEVERITY if counts[v])
    gaps = [
        later - earlier for a in analyses for earlier, later in itertools.pairwise(a.stats.token_ms)
    ]

    def pool(values: list[float | None]) -> Percentiles | None:
        return percentiles([v for v in values if v is not None])

    return Aggregate(
        streams=len(analyses),
        verdicts={str(v): counts[v] for v in Verdict if counts[v]},
        verdict=verdict,
        ttfb_ms=pool([a.stats.ttfb_ms for a in analyses]),
        ttft_ms=pool([a.stats.ttft_ms for a in analyses]),
        itl_ms=percentiles(gaps),
        tokens_per_s=pool([a.stats.tokens_per_s for a in analyses]),
        duration_ms=pool([a.stats.duration_ms for a in analyses]),
    )


def representative(analyses: Sequence[StreamAnalysis], verdict: Verdict) -> StreamAnalysis:
    """The stream shown in detail: the first one that got the aggregate verdict."""
    return next(a for a in analyses if a.judgement.verdict is verdict)
