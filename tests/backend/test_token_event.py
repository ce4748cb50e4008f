"""The token event's fast encoder writes what the schema's model would, byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verse_backend.schemas import TokenData
from verse_backend.sse_response import sse_event
from verse_backend.streaming import token_event


@given(st.text())
def test_token_event_is_the_model_encoding(text: str) -> None:
    assert token_event(text) == sse_event("token", TokenData(text=text))


def test_token_event_refuses_a_lone_surrogate_like_the_model() -> None:
    with pytest.raises(UnicodeEncodeError):
        token_event("\ud800")
    with pytest.raises(ValueError):  # pydantic's PydanticSerializationError is a ValueError
        sse_event("token", TokenData(text="\ud800"))
