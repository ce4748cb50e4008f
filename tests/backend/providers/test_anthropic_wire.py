"""The wire encoder's fast token event is byte-for-byte the generic one, and an `event: error`
after the 200 is classified by its body's error type whatever the body holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verse_backend.providers import anthropic_wire as wire
from verse_backend.providers.anthropic import stream_error


@given(st.text(), st.integers(min_value=0, max_value=1000))
def test_text_delta_is_the_generic_encoding(text: str, index: int) -> None:
    generic = wire.encode_event(
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "text_delta", "text": text},
        },
    )
    assert wire.text_delta(text, index) == generic


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (
            '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
            "overloaded",
        ),
        ('{"type":"error","error":{"type":"rate_limit_error","message":"x"}}', "rate_limited"),
        ('{"type":"error","error":{"type":"brand_new_error"}}', "upstream_error"),
        ('{"type":"error","error":"overloaded_error"}', "upstream_error"),
        ("[1, 2]", "upstream_error"),
        ("not json {", "upstream_error"),
        ("", "upstream_error"),
    ],
)
def test_stream_error_kind(data: str, kind: str) -> None:
    error = stream_error(data)
    assert error.kind == kind
    assert "{" not in error.safe_message
