"""Content-Encoding decoding, read by read, as a browser does it (gzip, deflate, br; stacked).

The probe reads raw bytes to time each socket read; decoding is done here so that what one
read completes is known exactly. Output comes in pieces of at most DECODE_PIECE_BYTES and at
most MAX_DECODED_BYTES in total: 1.6 KB of brotli can expand to 1 GiB in a single call.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from typing import Protocol

import brotli

ACCEPT_ENCODING = "gzip, deflate, br"
DECODE_PIECE_BYTES = 64 << 10
"""Per step: what one step hands the SSE parser (the deadline is checked between steps).
brotli may overshoot it by its own buffer size (about 32 KiB)."""
MAX_DECODED_BYTES = 64 << 20
"""Per body: a chat answer is kilobytes; 64 MiB is a bomb or a flood, not a stream to time."""


class ContentDecodingError(Exception):
    """The body does not decode with the encoding the server declared, or decodes too large."""


class _Decoder(Protocol):
    def pieces(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> bytes: ...


class _Identity:
    def pieces(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._head: bytearray | None = bytearray() if wbits == zlib.MAX_WBITS else None
        """For "deflate": bytes seen before any output, to retry them as raw deflate."""

    def pieces(self, data: bytes) -> Iterator[bytes]:
        pending = data
        while True:
            try:
                out = self._obj.decompress(pending, DECODE_PIECE_BYTES)
            except zlib.error as exc:
                # "deflate" is zlib-wrapped by the RFC, raw deflate in the wild: browsers take both
                if self._head is not None:
                    head, self._head = bytes(self._head) + data, None
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    yield from self.pieces(head)
                    return
                raise ContentDecodingError(f"bad compressed data: {exc}") from None
            if self._head is not None:
                if out:
                    self._head = None
                else:
                    self._head += pending
            if out:
                yield out
            pending = self._obj.unconsumed_tail
            # a full piece may leave output inside zlib even when all input was taken
            if not pending and len(out) < DECODE_PIECE_BYTES:
                return

    def flush(self) -> bytes:
        try:
            return self._obj.flush()
        except zlib.error as exc:
            raise ContentDecodingError(f"bad compressed data: {exc}") from None


class _Brotli:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def pieces(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=DECODE_PIECE_BYTES)
            # brotli may hold more output even when it says it can take input: drain it
            while out:
                yield bytes(out)
                out = self._obj.process(b"", output_buffer_limit=DECODE_PIECE_BYTES)
        except brotli.error as exc:
            raise ContentDecodingError(f"bad brotli data: {exc}") from None

    def flush(self) -> bytes:
        return b""


def _single(name: str) -> _Decoder:
    if name in ("", "identity"):
        return _Identity()
    if name in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS)
    if name == "br":
        return _Brotli()
    raise ContentDecodingError(f"unsupported Content-Encoding {name!r}")


def _through(chain: Sequence[_Decoder], data: bytes) -> Iterator[bytes]:
    if not chain:
        if data:
            yield data
        return
    for piece in chain[0].pieces(data):
        yield from _through(chain[1:], piece)


class BodyDecoder:
    """Undo a Content-Encoding header value ("gzip", "gzip, br", ...) one read at a time."""

    def __init__(self, content_encoding: str | None, *, limit: int = MAX_DECODED_BYTES) -> None:
        names = [part.strip().lower() for part in (content_encoding or "").split(",")]
        # encodings are listed in the order they were applied: undo them last to first
        self._chain = [_single(name) for name in reversed(names) if name not in ("", "identity")]
        self.limit = limit
        self.decoded = 0

    @property
    def identity(self) -> bool:
        return not self._chain

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of `data`, in bounded pieces; raises past the total limit."""
        yield from self._counted(_through(self._chain, data))

    def flush_pieces(self) -> Iterator[bytes]:
        """What the decoders still hold at the end of the body."""
        for index, decoder in enumerate(self._chain):
            yield from self._counted(_through(self._chain[index + 1 :], decoder.flush()))

    def decode(self, data: bytes) -> bytes:
        return b"".join(self.pieces(data))

    def flush(self) -> bytes:
        return b"".join(self.flush_pieces())

    def _counted(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            if self.decoded + len(piece) > self.limit:
                what = "decoded body" if self._chain else "body"
                raise ContentDecodingError(f"the {what} exceeds {self.limit >> 20} MiB")
            self.decoded += len(piece)
            yield piece
