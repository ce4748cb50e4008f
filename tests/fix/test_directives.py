"""Directive keys and normal forms, and nginx time values."""

from __future__ import annotations

import pytest

from versectl.fix.directives import directive_key, normalized
from versectl.fix.nginx_time import parse_time_ms


def test_directives_key_is_per_header_name() -> None:
    assert directive_key("proxy_set_header", ["Host", "$host"]) == "proxy_set_header host"
    assert directive_key("proxy_buffering", ["off"]) == "proxy_buffering"


def test_directives_normalized_forms_compare_equal() -> None:
    assert normalized("gzip", ["OFF"]) == normalized("gzip", ["off"])
    assert normalized("proxy_read_timeout", ["1h"]) == normalized("proxy_read_timeout", ["3600"])
    assert normalized("proxy_set_header", ["HOST", "$host"]) == normalized(
        "proxy_set_header", ["host", "$host"]
    )
    assert normalized("proxy_set_header", ["Host", "$HOST"]) != normalized(
        "proxy_set_header", ["Host", "$host"]
    )


@pytest.mark.parametrize(
    ("value", "ms"),
    [("90", 90_000), ("3600s", 3_600_000), ("1h 30m", 5_400_000), ("1h30m", 5_400_000), ("250ms", 250),
     ("x", None), ("", None), ("10q", None)],
)  # fmt: skip
def test_directives_parse_time(value: str, ms: int | None) -> None:
    assert parse_time_ms(value) == ms
