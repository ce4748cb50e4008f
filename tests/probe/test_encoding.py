"""Content-Encoding is undone read by read, like a browser: gzip, deflate (both forms), br."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import brotli
import pytest

from versectl.probe.encoding import DECODE_PIECE_BYTES, BodyDecoder, ContentDecodingError

BODY = b'event: token\ndata: {"text": "hello"}\n\n' * 50


def _decode_in_pieces(encoding: str, payload: bytes, size: int = 7) -> bytes:
    decoder = BodyDecoder(encoding)
    out = b"".join(decoder.decode(payload[i : i + size]) for i in range(0, len(payload), size))
    return out + decoder.flush()


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip", gzip.compress(BODY)),
        ("x-gzip", gzip.compress(BODY)),
        ("deflate", zlib.compress(BODY)),
        ("deflate", zlib.compress(BODY, wbits=-zlib.MAX_WBITS)),  # raw deflate, as IIS sends
        ("br", brotli.compress(BODY)),
        ("identity", BODY),
        ("", BODY),
        ("gzip, br", brotli.compress(gzip.compress(BODY))),
    ],
)
def test_encoding_decodes_in_any_pieces(encoding: str, payload: bytes) -> None:
    assert _decode_in_pieces(encoding, payload) == BODY
    assert _decode_in_pieces(encoding, payload, size=1) == BODY


def test_encoding_flushed_gzip_yields_each_event_when_it_arrives() -> None:
    """nginx's gzip with X-Accel-Buffering: no flushes per event: each read decodes at once."""
    compressor = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    decoder = BodyDecoder("gzip")
    for i in range(5):
        event = b"data: %d\n\n" % i
        piece = compressor.compress(event) + compressor.flush(zlib.Z_SYNC_FLUSH)
        assert decoder.decode(piece) == event


def test_encoding_unsupported_is_an_error() -> None:
    with pytest.raises(ContentDecodingError, match="zstd"):
        BodyDecoder("zstd")


@pytest.mark.parametrize("encoding", ["gzip", "br", "deflate"])
def test_encoding_corrupt_data_is_an_error(encoding: str) -> None:
    with pytest.raises(ContentDecodingError):
        _decode_in_pieces(encoding, b"\x1f\x8b\x08\x00garbage-garbage-garbage" * 3)


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("gzip, br", lambda body: brotli.compress(gzip.compress(body))),
    ],
)
def test_encoding_output_comes_in_bounded_pieces(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    body = bytes(8 << 20)
    decoder = BodyDecoder(encoding)
    sizes = [len(piece) for piece in decoder.pieces(compress(body))]
    sizes += [len(piece) for piece in decoder.flush_pieces()]
    assert sum(sizes) == len(body)
    assert max(sizes) <= 2 * DECODE_PIECE_BYTES  # brotli overshoots by its buffer
    assert len(sizes) >= len(body) // (2 * DECODE_PIECE_BYTES)


@pytest.mark.parametrize("encoding", ["gzip", "br", "identity"])
def test_encoding_total_past_the_limit_is_an_error(encoding: str) -> None:
    payload = {"gzip": gzip.compress, "br": brotli.compress}.get(encoding, bytes)(bytes(1 << 20))
    decoder = BodyDecoder(encoding, limit=512 << 10)
    with pytest.raises(ContentDecodingError, match="exceeds 0 MiB"):
        list(decoder.pieces(payload))
    assert decoder.decoded <= 512 << 10
