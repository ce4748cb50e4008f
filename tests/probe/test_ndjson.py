"""The NDJSON parser: one event per line whatever the reads, bounded lines, bad UTF-8 counted;
and token counting per framing (versectl.probe.framing) on what the parsers produce."""

from __future__ import annotations

import json

import pytest

from versectl.probe.framing import FRAMINGS
from versectl.probe.ndjson import NDJSONParser
from versectl.probe.record import Arrival, StreamRecord
from versectl.probe.sse import SSEProtocolError
from versectl.probe.timing import stream_stats

LINES = (
    b'{"message":{"content":"a"},"done":false}\n\n{"response":"b","done":false}\r\n{"done":true}\n'
)


@pytest.mark.parametrize("size", [1, 2, 7, len(LINES)])
def test_ndjson_parser_same_events_for_any_read_size(size: int) -> None:
    parser = NDJSONParser()
    events = [e for i in range(0, len(LINES), size) for e in parser.feed(LINES[i : i + size])]
    assert [json.loads(e.data) for e in events] == [
        {"message": {"content": "a"}, "done": False},
        {"response": "b", "done": False},
        {"done": True},
    ]
    assert parser.buffered_bytes == 0


def test_ndjson_parser_unfinished_line_is_buffered() -> None:
    parser = NDJSONParser()
    assert parser.feed(b'{"a": 1}\n{"b"') and parser.buffered_bytes == 4


def test_ndjson_parser_endless_line_is_bounded() -> None:
    parser = NDJSONParser(max_line_bytes=100)
    parser.feed(b"x" * 100)
    with pytest.raises(SSEProtocolError, match="100 bytes"):
        parser.feed(b"x")


def test_ndjson_parser_invalid_utf8_counted() -> None:
    parser = NDJSONParser()
    (event,) = parser.feed(b'{"response":"\xff"}\n')
    assert parser.invalid_utf8 == 1 and "\ufffd" in event.data


def _record(framing: str | None, events: list[tuple[str, str]]) -> StreamRecord:
    record = StreamRecord(url="http://x/", sent_ns=0, started_ns=0, ended_ns=10**9)
    record.framing = framing
    for i, (event, data) in enumerate(events):
        record.add_read((i + 1) * 10**7, len(data))
        record.add_arrival(Arrival((i + 1) * 10**7, i, event, data, len(data)))
    return record


def test_framing_ollama_counts_content_lines_not_done() -> None:
    events = [
        ("ndjson", json.dumps({"message": {"content": f"t{i}"}, "done": False})) for i in range(5)
    ]
    events.append(("ndjson", json.dumps({"message": {"content": ""}, "done": True})))
    for framing in ("ollama", None):  # with --app ollama, and guessed from the lines alone
        stats = stream_stats(_record(framing, events))
        assert (stats.tokens, stats.text_chars, stats.terminated) == (5, 10, True)


def test_framing_openai_skips_role_chunk_and_done() -> None:
    events = [("message", json.dumps({"choices": [{"delta": {"role": "assistant"}}]}))]
    events += [("message", json.dumps({"choices": [{"delta": {"content": "ab"}}]}))] * 3
    events.append(("message", "[DONE]"))
    stats = stream_stats(_record("openai", events))
    assert (stats.tokens, stats.text_chars, stats.terminated) == (3, 6, True)


def test_framing_dify_counts_answers_only() -> None:
    events = [("message", json.dumps({"event": "workflow_started"}))]
    events += [("message", json.dumps({"event": "message", "answer": "x"}))] * 4
    events.append(("message", json.dumps({"event": "message_end"})))
    stats = stream_stats(_record("dify", events))
    assert (stats.tokens, stats.terminated) == (4, True)


def test_framing_every_one_has_a_wire() -> None:
    assert {f.wire for f in FRAMINGS.values()} == {"sse", "ndjson"}
