"""A stream record keeps a prefix of reads and events up to its caps and counts the rest."""

from __future__ import annotations

import pytest

from versectl.probe import record as record_module
from versectl.probe.record import Arrival, StreamRecord
from versectl.probe.timing import stream_stats


def test_record_caps_keep_a_prefix_and_exact_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_module, "MAX_STORED_ARRIVALS", 3)
    monkeypatch.setattr(record_module, "MAX_STORED_READS", 2)
    record = StreamRecord(url="http://h/x", started_ns=0, sent_ns=0, ended_ns=10_000_000)
    for read in range(4):
        record.add_read(read * 1_000_000, 10)
        record.add_read(read * 1_000_000, 5, same_read=True)  # a second chunk of that read
        for _ in range(2):
            record.add_arrival(Arrival(read * 1_000_000, len(record.read_ns) - 1, "m", "x", 3))
    assert record.truncated
    assert len(record.read_ns) == 2 and record.read_bytes == [15, 15]
    assert record.reads == 4 and record.body_bytes == 60
    assert len(record.arrivals) == 3 and record.events == 8
    stats = stream_stats(record)
    assert stats.events == 8 and stats.reads == 4 and len(stats.arrivals_ms) == 3


def test_record_data_bytes_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_module, "MAX_STORED_DATA_BYTES", 10)
    record = StreamRecord(url="http://h/x")
    record.add_read(0, 100)
    for _ in range(3):
        record.add_arrival(Arrival(0, 0, "message", "abcd", 11))
    assert [a.data for a in record.arrivals] == ["abcd", "abcd"] and record.events == 3
    assert record.truncated


def test_record_under_the_caps_is_not_truncated() -> None:
    record = StreamRecord(url="http://h/x")
    record.add_read(0, 10)
    record.add_arrival(Arrival(0, 0, "message", "x", 3))
    assert not record.truncated and record.events == 1 and record.reads == 1
