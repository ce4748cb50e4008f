"""Directive keys and normal forms."""

from __future__ import annotations

from versectl.fix.directives import directive_key, normalized


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
