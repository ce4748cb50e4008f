"""An incremental NDJSON parser (one JSON value a line, application/x-ndjson) with the SSE
parser's interface and bounds, so the read path times Ollama's lines as it times SSE events."""

from __future__ import annotations

from versectl.probe.framing import NDJSON_EVENT
from versectl.probe.sse import (
    DEFAULT_MAX_LINE_BYTES,
    SSEEvent,
    SSEProtocolError,
    decode_line,
)


class NDJSONParser:
    """Feed bytes as they arrive; each `feed` returns one event per line those bytes completed.

    A line is an event (its bound is the SSE line bound); blank lines are skipped. Lines end at
    LF (CRLF: the CR is whitespace JSON ignores). Invalid UTF-8 becomes U+FFFD, counted.
    """

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.comments = 0  # SSEParser's interface: NDJSON has no comments
        self.invalid_utf8 = 0
        self._pending = bytearray()

    @property
    def buffered_bytes(self) -> int:
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            raw = chunk[start:end]
            if self._pending:
                raw = bytes(self._pending) + raw
                self._pending.clear()
            if len(raw) > self.max_line_bytes:
                raise SSEProtocolError(f"an NDJSON line exceeded {self.max_line_bytes} bytes")
            start = end + 1
            text = self._decode(raw).strip()
            if text:
                events.append(SSEEvent(NDJSON_EVENT, text, "", None, len(raw) + 1))
        self._pending += chunk[start:]
        if len(self._pending) > self.max_line_bytes:
            raise SSEProtocolError(
                f"an NDJSON line exceeded {self.max_line_bytes} bytes without a line end"
            )
        return events

    def _decode(self, raw: bytes) -> str:
        text, invalid = decode_line(raw)
        self.invalid_utf8 += invalid
        return text
