"""The SSE parser follows the WHATWG rules whatever the read boundaries are, in bounded memory."""

from __future__ import annotations

import itertools
import random

import pytest

from versectl.probe.sse import SSEEvent, SSEParser, SSEProtocolError

CORPUS = (
    '\ufeffevent: token\r\ndata: {"text": "h\u00e9llo \u2014 \U0001f600"}\r\n\r\n'
    ": ping\n\n"
    "data: line one\ndata: line two\rdata:no-space\r\n\r\n"
    "id: 7\nretry: 1500\nevent: done\ndata: [DONE]\n\n"
    "data\n\n"
    "event: ignored-without-data\n\n"
    "data: tail\r\r"
).encode()


def _parse(chunks: list[bytes], parser: SSEParser | None = None) -> list[SSEEvent]:
    parser = parser or SSEParser()
    return [event for chunk in chunks for event in parser.feed(chunk)]


def _reference() -> list[SSEEvent]:
    return _parse([CORPUS])


def test_sse_parses_whatwg_fields() -> None:
    events = _reference()
    assert [(e.event, e.data) for e in events] == [
        ("token", '{"text": "h\u00e9llo \u2014 \U0001f600"}'),
        ("message", "line one\nline two\nno-space"),
        ("done", "[DONE]"),
        ("message", ""),
        ("message", "tail"),
    ]
    assert events[2].id == "7" and events[2].retry == 1500
    assert events[3].id == "7"  # the last event id persists across events
    assert events[0].retry is None


def test_sse_counts_comments_and_not_as_events() -> None:
    parser = SSEParser()
    _parse([b": ping\n\n: ping\n\ndata: x\n\n"], parser)
    assert parser.comments == 2


@pytest.mark.parametrize("cut", range(1, len(CORPUS)))
def test_sse_split_in_two_anywhere_gives_same_events(cut: int) -> None:
    assert _parse([CORPUS[:cut], CORPUS[cut:]]) == _reference()


def test_sse_split_in_three_everywhere_gives_same_events() -> None:
    reference = _reference()
    for first in range(1, len(CORPUS), 3):
        for second in range(first + 1, len(CORPUS), 5):
            chunks = [CORPUS[:first], CORPUS[first:second], CORPUS[second:]]
            assert _parse(chunks) == reference, (first, second)


def test_sse_byte_by_byte_and_random_splits_give_same_events() -> None:
    reference = _reference()
    assert _parse([CORPUS[i : i + 1] for i in range(len(CORPUS))]) == reference
    rng = random.Random(4)
    for _ in range(300):
        cuts = sorted(rng.sample(range(1, len(CORPUS)), rng.randint(1, 20)))
        bounds = [0, *cuts, len(CORPUS)]
        chunks = [CORPUS[a:b] for a, b in itertools.pairwise(bounds)]
        assert _parse(chunks) == reference, cuts


def test_sse_event_completes_on_the_read_with_its_blank_line() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n") == []
    assert parser.buffered_bytes == len(b"data: a\n")
    assert [e.data for e in parser.feed(b"\n")] == ["a"]
    assert parser.buffered_bytes == 0


def test_sse_crlf_split_between_reads_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert [e.data for e in parser.feed(b"\n\r\n")] == ["a"]
    # and a lone CR at the end of a read followed by a blank-line CR is two line ends
    assert [e.data for e in parser.feed(b"data: b\r")] == []
    assert [e.data for e in parser.feed(b"\r")] == ["b"]


def test_sse_bom_only_stripped_at_start_even_when_split() -> None:
    assert [e.data for e in _parse([b"\xef", b"\xbb", b"\xbfdata: a\n\n"])] == ["a"]
    # a BOM later in the stream is data, not stripped
    later = _parse([b"data: a\n\n\xef\xbb\xbfdata: b\n\n"])
    assert [e.data for e in later] == ["a"]  # the field name is "\ufeffdata": ignored


def test_sse_invalid_utf8_is_replaced_and_counted() -> None:
    parser = SSEParser()
    events = _parse([b"data: ok \xff\xfe end\n\n", "data: real \ufffd\n\n".encode()], parser)
    assert events[0].data == "ok \ufffd\ufffd end"
    assert events[1].data == "real \ufffd"
    assert parser.invalid_utf8 == 2  # a U+FFFD the server really sent is not counted


def test_sse_endless_line_raises_protocol_error_with_bounded_buffer() -> None:
    parser = SSEParser(max_line_bytes=1000)
    with pytest.raises(SSEProtocolError, match="line"):
        for _ in range(100):
            parser.feed(b"data: " + b"x" * 100)
            assert parser.buffered_bytes <= 1100


def test_sse_oversized_event_raises_protocol_error() -> None:
    parser = SSEParser(max_line_bytes=100, max_event_bytes=1000)
    with pytest.raises(SSEProtocolError, match="event"):
        for _ in range(100):
            parser.feed(b"data: " + b"y" * 50 + b"\n")


def test_sse_event_size_counts_its_lines() -> None:
    (event,) = _parse([b"event: token\r\ndata: ab\r\n\r\n"])
    assert event.size == len(b"event: token\ndata: ab\n\n")
