"""Hypothesis: the SSE parser, fed any bytes in any pieces, never raises but its own limit error,
keeps its buffer within the limits, and gives the same events whatever the read boundaries."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from versectl.probe.sse import SSEEvent, SSEParser, SSEProtocolError

MAX_LINE = 64
MAX_EVENT = 256
SSE_BYTES = st.lists(
    st.sampled_from(
        [
            *(b"data:", b"data: x", b"event: t", b"id: 1", b"retry: 9", b": c", b"\xef\xbb\xbf"),
            *(b"\r", b"\n", b"\r\n", b"\x00", b"\xff", b"\xc3", b"\xa9", b"x" * 40),
        ]
    )
    | st.binary(max_size=80),
    max_size=60,
).map(b"".join)


def _feed_all(data: bytes, cuts: list[int]) -> tuple[list[SSEEvent] | None, SSEParser]:
    """The events, or None when the parser refused the stream with its limit error."""
    parser = SSEParser(max_line_bytes=MAX_LINE, max_event_bytes=MAX_EVENT)
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    events: list[SSEEvent] = []
    try:
        for start, end in itertools.pairwise(bounds):
            events += parser.feed(data[start:end])
            assert parser.buffered_bytes <= MAX_LINE + MAX_EVENT + 1
    except SSEProtocolError:
        return None, parser
    return events, parser


@settings(max_examples=400, deadline=None)
@given(SSE_BYTES, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_sse_fuzz_any_bytes_any_pieces_same_events(data: bytes, cuts: list[int]) -> None:
    whole, _ = _feed_all(data, [])
    pieces, parser = _feed_all(data, cuts)
    if whole is not None and pieces is not None:
        assert pieces == whole
        assert all(event.size <= MAX_EVENT + MAX_LINE for event in pieces)
    assert parser.invalid_utf8 >= 0


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=2000), st.integers(min_value=1, max_value=97))
def test_sse_fuzz_one_byte_at_a_time_never_raises_unexpectedly(data: bytes, step: int) -> None:
    parser = SSEParser(max_line_bytes=MAX_LINE, max_event_bytes=MAX_EVENT)
    try:
        for start in range(0, len(data), step):
            parser.feed(data[start : start + step])
            assert parser.buffered_bytes <= MAX_LINE + MAX_EVENT + 1
    except SSEProtocolError:
        pass
