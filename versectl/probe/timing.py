"""Numbers of one stream, computed after it ended: TTFB, TTFT, ITL percentiles, bursts, tokens.

An event is not a token: a model may send several words per delta, so both are counted. Tokens
are `event: token` events when the stream has them, else every data event that is neither a
ping nor a terminator (`[DONE]`, `done`, `message_stop`, an NDJSON line with "done": true).
With an app's framing (--app: StreamRecord.framing) its own table in framing.py decides.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from versectl.probe.framing import FRAMINGS, NDJSON_EVENT, ollama_text, payload
from versectl.probe.record import Arrival, StreamRecord

BURST_GAP_NS = 1_000_000
"""Events less than 1 ms apart arrived together: one buffer flush can span two reads."""
TERMINATOR_EVENTS = frozenset({"done", "message_stop"})
PING_EVENTS = frozenset({"ping"})
TOKEN_EVENT_TYPES = ("token", "content_block_delta")


@dataclass(frozen=True, slots=True)
class Burst:
    """Events that arrived together (gaps under BURST_GAP_NS)."""

    start_ms: float
    end_ms: float
    events: int
    bytes: int
    reads: int
    silence_ms: float
    """Time since the previous arrival, or since the request was sent for the first burst."""


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50: float
    p90: float
    p99: float
    max: float

    def as_dict(self) -> dict[str, float]:
        return {"p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}


@dataclass(frozen=True, slots=True)
class StreamStats:
    events: int
    tokens: int
    text_chars: int
    reads: int
    ttfb_ms: float | None
    ttft_ms: float | None
    ttst_ms: float | None
    duration_ms: float | None
    tokens_per_s: float | None
    decode_tokens_per_s: float | None
    itl_ms: Percentiles | None
    arrivals_ms: list[float]
    token_ms: list[float]
    events_per_read: float | None
    max_events_per_read: int
    bursts: list[Burst]
    terminated: bool
    """A terminator event (`done`, `[DONE]`, `message_stop`) was seen."""


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    if not sorted_values:
        raise ValueError("no values")
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def percentiles(values: Sequence[float]) -> Percentiles | None:
    if not values:
        return None
    ordered = sorted(values)
    return Percentiles(
        percentile(ordered, 50), percentile(ordered, 90), percentile(ordered, 99), ordered[-1]
    )


def is_terminator(arrival: Arrival, framing: str | None = None) -> bool:
    if framing is not None:
        return FRAMINGS[framing].is_terminator(arrival)
    if arrival.event == NDJSON_EVENT:
        found = payload(arrival)
        return found is not None and found.get("done") is True
    return arrival.event in TERMINATOR_EVENTS or arrival.data.strip() == "[DONE]"


def token_arrivals(arrivals: Sequence[Arrival], framing: str | None = None) -> list[Arrival]:
    """The events that carry model output (see the module docstring)."""
    if framing is not None:
        return [arrival for arrival in arrivals if FRAMINGS[framing].is_token(arrival)]
    kinds = {arrival.event for arrival in arrivals}
    for kind in TOKEN_EVENT_TYPES:
        if kind in kinds:
            return [arrival for arrival in arrivals if arrival.event == kind]
    return [
        arrival
        for arrival in arrivals
        if arrival.event not in PING_EVENTS and not is_terminator(arrival)
    ]


def token_text(data: str) -> str:
    """The generated text inside an event: verse/Anthropic/OpenAI/Ollama shapes, else the raw
    data."""
    try:
        payload = json.loads(data)
    except ValueError:
        return data
    if isinstance(payload, dict):
        for candidate in (
            payload.get("text"),
            (payload.get("delta") or {}).get("text")
            if isinstance(payload.get("delta"), dict)
            else None,
            _openai_content(payload),
            ollama_text(payload),
        ):
            if isinstance(candidate, str):
                return candidate
    return ""


def _openai_content(payload: dict[str, object]) -> str | None:
    choices = payload.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            return str(delta["content"])
    return None


def bursts(record: StreamRecord) -> list[Burst]:
    """Group the arrivals into bursts; each remembers the silence before it."""
    groups: list[list[Arrival]] = []
    for arrival in record.arrivals:
        if groups and arrival.t_ns - groups[-1][-1].t_ns < BURST_GAP_NS:
            groups[-1].append(arrival)
        else:
            groups.append([arrival])
    result: list[Burst] = []
    previous_ms = 0.0
    for group in groups:
        start = record.ms(group[0].t_ns) or 0.0
        end = record.ms(group[-1].t_ns) or 0.0
        size = sum(arrival.size for arrival in group)
        reads = len({arrival.read for arrival in group})
        result.append(Burst(start, end, len(group), size, reads, start - previous_ms))
        previous_ms = end
    return result


def stream_stats(record: StreamRecord) -> StreamStats:
    arrivals_ms = [record.ms(arrival.t_ns) or 0.0 for arrival in record.arrivals]
    framing = record.framing
    tokens = token_arrivals(record.arrivals, framing)
    token_ms = [record.ms(arrival.t_ns) or 0.0 for arrival in tokens]
    gaps = [later - earlier for earlier, later in itertools.pairwise(token_ms)]
    duration = record.ms(record.ended_ns) if record.sent_ns is not None else None
    per_read: dict[int, int] = {}
    for arrival in record.arrivals:
        per_read[arrival.read] = per_read.get(arrival.read, 0) + 1
    first_token = token_ms[0] if token_ms else (arrivals_ms[0] if arrivals_ms else None)
    decode_span = (token_ms[-1] - token_ms[0]) / 1000 if len(token_ms) > 1 else 0.0
    return StreamStats(
        events=record.events,
        tokens=len(tokens),
        text_chars=sum(len(_text(arrival, framing)) for arrival in tokens),
        reads=record.reads,
        ttfb_ms=record.ms(record.headers_ns),
        ttft_ms=first_token,
        ttst_ms=token_ms[1] if len(token_ms) > 1 else None,
        duration_ms=duration,
        tokens_per_s=len(tokens) / (duration / 1000) if duration and tokens else None,
        decode_tokens_per_s=(len(tokens) - 1) / decode_span if decode_span > 0 else None,
        itl_ms=percentiles(gaps),
        arrivals_ms=arrivals_ms,
        token_ms=token_ms,
        events_per_read=len(record.arrivals) / len(per_read) if per_read else None,
        max_events_per_read=max(per_read.values(), default=0),
        bursts=bursts(record),
        terminated=any(is_terminator(arrival, framing) for arrival in record.arrivals),
    )


def _text(arrival: Arrival, framing: str | None) -> str:
    return FRAMINGS[framing].text(arrival) if framing is not None else token_text(arrival.data)
