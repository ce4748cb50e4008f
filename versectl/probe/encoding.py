"""Content-Encoding decoding, read by read, as a browser does it (gzip, deflate, br; stacked).

The probe reads raw bytes to time each socket read; decoding is done here so that what one
read completes is known exactly (zlib and brotli return everything they can decode at once).
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli

ACCEPT_ENCODING = "gzip, deflate, br"


class ContentDecodingError(Exception):
    """The body does not decode with the encoding the server declared."""


class _Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Identity:
    def decode(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._obj = zlib.decompressobj(wbits)
        self._head: bytearray | None = bytearray() if wbits == zlib.MAX_WBITS else None
        """For "deflate": bytes seen before any output, to retry them as raw deflate."""

    def decode(self, data: bytes) -> bytes:
        try:
            out = self._obj.decompress(data)
        except zlib.error as exc:
            # "deflate" is zlib-wrapped by the RFC but raw deflate in the wild: browsers accept both
            if self._head is not None:
                head, self._head = bytes(self._head) + data, None
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.decode(head)
            raise ContentDecodingError(f"bad compressed data: {exc}") from None
        if self._head is not None:
            if out:
                self._head = None
            else:
                self._head += data
        return out

    def flush(self) -> bytes:
        try:
            return self._obj.flush()
        except zlib.error as exc:
            raise ContentDecodingError(f"bad compressed data: {exc}") from None


class _Brotli:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def decode(self, data: bytes) -> bytes:
        try:
            return bytes(self._obj.process(data))
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


class BodyDecoder:
    """Undo a Content-Encoding header value ("gzip", "gzip, br", ...) one read at a time."""

    def __init__(self, content_encoding: str | None) -> None:
        names = [part.strip().lower() for part in (content_encoding or "").split(",")]
        # encodings are listed in the order they were applied: undo them last to first
        self._chain = [_single(name) for name in reversed(names) if name not in ("", "identity")]

    @property
    def identity(self) -> bool:
        return not self._chain

    def decode(self, data: bytes) -> bytes:
        for decoder in self._chain:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._chain:
            data = decoder.decode(data) + decoder.flush()
        return data
