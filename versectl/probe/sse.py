"""An incremental Server-Sent Events parser (WHATWG "event stream interpretation") over bytes.

Why not httpx-sse: it iterates `aiter_text()` lines and yields events with no link to the
socket read that completed them, keeps an unbounded line buffer (an endless line grows memory
without limit) and does not strip a leading BOM. This parser is fed one read at a time and
returns the events that read completed, with bounded memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_LINE_BYTES = 1 << 20
DEFAULT_MAX_EVENT_BYTES = 4 << 20
_BOM = b"\xef\xbb\xbf"
_REPLACEMENT_UTF8 = "\ufffd".encode()
_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEProtocolError(Exception):
    """The stream broke a limit that keeps memory bounded (a line or an event too large)."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """A dispatched event: WHATWG semantics (`event` defaults to "message")."""

    event: str
    data: str
    id: str
    retry: int | None
    size: int
    """Bytes of the lines that made this event, each line end counted as one byte."""


class SSEParser:
    """Feed bytes as they arrive; each `feed` returns the events those bytes completed.

    Lines are split on bytes (CR, LF and CRLF never occur inside a UTF-8 multi-byte sequence),
    then decoded whole, so a character split across reads decodes correctly. Invalid UTF-8 is
    replaced with U+FFFD and counted in `invalid_utf8`.
    """

    def __init__(
        self,
        *,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        on_comment: Callable[[str], None] | None = None,
    ) -> None:
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.on_comment = on_comment
        """Called with each comment's text (after the colon) as its line is parsed."""
        self.comments = 0
        self.invalid_utf8 = 0
        self.last_event_id = ""
        self._pending = bytearray()
        self._head = b""
        self._at_start = True
        self._skip_lf = False  # the previous read ended with CR: a leading LF belongs to it
        self._event_type = ""
        self._data: list[str] = []
        self._has_data = False
        self._retry: int | None = None
        self._event_bytes = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes received but not yet part of a dispatched event (an unfinished line or event)."""
        return len(self._pending) + self._event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse one read; return the events it completed, in order."""
        if self._at_start:
            self._head += chunk
            if len(self._head) < len(_BOM) and _BOM.startswith(self._head):
                return []  # maybe a BOM split across reads: wait for more
            self._at_start = False
            chunk = self._head.removeprefix(_BOM)
            self._head = b""
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        events: list[SSEEvent] = []
        start = 0
        # only the new bytes are scanned: the pending partial line never holds a line end
        for match in _LINE_END.finditer(chunk):
            raw = chunk[start : match.start()]
            if self._pending:
                raw = bytes(self._pending) + raw
                self._pending.clear()
            if match.end() == len(chunk) and match.group() == b"\r":
                self._skip_lf = True  # a CRLF may be split across two reads
            event = self._line(raw)
            if event is not None:
                events.append(event)
            start = match.end()
        self._pending += chunk[start:]
        if len(self._pending) > self.max_line_bytes:
            raise SSEProtocolError(
                f"a line exceeded {self.max_line_bytes} bytes without a line end"
            )
        return events

    def _line(self, raw: bytes) -> SSEEvent | None:
        size = len(raw) + 1  # a line end counts one byte, CRLF too: sizes must not depend on reads
        self._event_bytes += size
        if not raw:
            return self._dispatch()
        if len(raw) > self.max_line_bytes:
            raise SSEProtocolError(f"a line exceeded {self.max_line_bytes} bytes")
        if self._event_bytes > self.max_event_bytes:
            raise SSEProtocolError(f"an event exceeded {self.max_event_bytes} bytes")
        line = self._decode(raw)
        if line.startswith(":"):
            self.comments += 1
            self._event_bytes -= size  # a comment is not part of any event
            if self.on_comment is not None:
                self.on_comment(line[1:])
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        size = self._event_bytes
        self._event_bytes = 0
        if not self._has_data:
            # WHATWG: a block without data dispatches nothing; its event type is dropped
            self._event_type = ""
            self._retry = None
            return None
        event = SSEEvent(
            event=self._event_type or "message",
            data="\n".join(self._data),
            id=self.last_event_id,
            retry=self._retry,
            size=size,
        )
        self._event_type = ""
        self._data = []
        self._has_data = False
        self._retry = None
        return event

    def _decode(self, raw: bytes) -> str:
        text, invalid = decode_line(raw)
        self.invalid_utf8 += invalid
        return text


def decode_line(raw: bytes) -> tuple[str, int]:
    """A line as UTF-8, invalid sequences replaced, and how many were (for the stream's count)."""
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")
        return text, text.count("\ufffd") - raw.count(_REPLACEMENT_UTF8)
