"""Synthetic stream records for the analysis tests: reads at given times carrying given events."""

from __future__ import annotations

import json

from versectl.probe.record import Arrival, ProbeFailure, StreamRecord

MS = 1_000_000


def token_event(i: int) -> tuple[str, str]:
    return "token", json.dumps({"text": f"word{i} "})


def record_from_reads(
    reads: list[tuple[float, int]],
    *,
    headers_ms: float = 1.0,
    end_ms: float | None = None,
    done: bool = True,
    event_bytes: int = 40,
    error: ProbeFailure | None = None,
) -> StreamRecord:
    """`reads`: (arrival ms after the request was sent, token events completed by that read).
    A `done` event rides on the last read when `done`."""
    record = StreamRecord(url="http://test/api/chat/message", started_ns=0, sent_ns=MS)
    record.headers_ns = MS + int(headers_ms * MS)
    record.status = 200
    record.headers = {"content-type": "text/event-stream"}
    count = 0
    for index, (ms, events) in enumerate(reads):
        t_ns = MS + int(ms * MS)
        record.read_ns.append(t_ns)
        record.read_bytes.append(events * event_bytes)
        for _ in range(events):
            kind, data = token_event(count)
            record.arrivals.append(Arrival(t_ns, index, kind, data, event_bytes))
            count += 1
    if done and reads:
        record.arrivals.append(
            Arrival(record.read_ns[-1], len(reads) - 1, "done", '{"tokens": 1}', event_bytes)
        )
    last = reads[-1][0] if reads else headers_ms
    record.ended_ns = MS + int((end_ms if end_ms is not None else last + 0.1) * MS)
    record.error = error
    return record


def steady(count: int, gap_ms: float, first_ms: float = 30.0) -> list[tuple[float, int]]:
    """One event per read, `gap_ms` apart: a healthy stream."""
    return [(first_ms + i * gap_ms, 1) for i in range(count)]
