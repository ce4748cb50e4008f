"""Hypothesis: any bytes under any Content-Encoding decode or fail with ContentDecodingError only."""

from __future__ import annotations

import itertools
import zlib

import brotli
from hypothesis import given, settings
from hypothesis import strategies as st

from versectl.probe.encoding import DECODE_PIECE_BYTES, BodyDecoder, ContentDecodingError

ENCODINGS = st.sampled_from(["gzip", "deflate", "br", "gzip, br", "identity"])


def _garbled(data: bytes, flips: list[int]) -> bytes:
    """A valid compressed body with some bytes flipped: deeper into the decoders than noise."""
    body = bytearray(data)
    for flip in flips:
        if body:
            body[flip % len(body)] ^= 0xFF
    return bytes(body)


@settings(max_examples=300, deadline=None)
@given(
    ENCODINGS,
    st.binary(max_size=3000),
    st.lists(st.integers(min_value=0), max_size=4),
    st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
)
def test_encoding_fuzz_only_its_own_error(
    encoding: str, plain: bytes, flips: list[int], cuts: list[int]
) -> None:
    compressed = {
        "gzip": lambda b: zlib.compress(b, wbits=31),
        "deflate": zlib.compress,
        "br": brotli.compress,
        "gzip, br": lambda b: brotli.compress(zlib.compress(b, wbits=31)),
    }.get(encoding, bytes)(plain)
    data = _garbled(compressed, flips)
    decoder = BodyDecoder(encoding, limit=1 << 20)
    bounds = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    try:
        for start, end in itertools.pairwise(bounds):
            for piece in decoder.pieces(data[start:end]):
                assert len(piece) <= 2 * DECODE_PIECE_BYTES
        decoder.flush()
    except ContentDecodingError:
        return
    if not flips:
        assert decoder.decoded == len(plain)
