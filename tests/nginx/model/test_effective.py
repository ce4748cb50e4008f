"""Effective settings: nginx's inheritance, array replacement, defaults and `if` variants."""

from __future__ import annotations

from pathlib import Path

from versectl.nginx.load import load_config
from versectl.nginx.model import Effective, effective, select_locations, variants

MAIN = """events {}
http {
    proxy_buffering off;
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    server {
        listen 80;
        proxy_read_timeout 30s;
        location /api {
            proxy_pass http://127.0.0.1:7776;
            proxy_set_header Connection '';
            if ($request_method = POST) { gzip on; }
            location /api/nested { proxy_buffering on; }
        }
    }
}
"""


def _effective(tmp_path: Path, uri: str) -> Effective:
    (tmp_path / "nginx.conf").write_text(MAIN)
    return effective(select_locations(load_config([str(tmp_path / "nginx.conf")]), [uri])[0])


def test_effective_inherits_from_http_and_server(tmp_path: Path) -> None:
    eff = _effective(tmp_path, "/api/chat")
    assert eff["proxy_buffering"].value == "off"
    assert eff["proxy_buffering"].origin == "http, nginx.conf:3"
    assert eff["proxy_read_timeout"].level == "server"
    assert eff["proxy_read_timeout"].describe() == "proxy_read_timeout 30s (server, nginx.conf:8)"


def test_effective_default_when_nowhere_set(tmp_path: Path) -> None:
    eff = _effective(tmp_path, "/api/chat")
    version = eff["proxy_http_version"]
    assert version.is_default and version.value == "1.0"
    assert version.describe() == "proxy_http_version 1.0 (default)"
    assert eff["some_unknown_directive"].describe().endswith("(not set) (default)")


def test_effective_array_directive_replaced_wholesale(tmp_path: Path) -> None:
    headers = _effective(tmp_path, "/api/chat")["proxy_set_header"]
    assert headers.level == "location"
    assert headers.entries == (("Connection", ""),)


def test_effective_nested_location_overrides_and_has_no_handler(tmp_path: Path) -> None:
    eff = _effective(tmp_path, "/api/nested/x")
    assert eff["proxy_buffering"].value == "on"
    assert eff.handler() is None  # proxy_pass is not inherited by nested locations
    assert eff["proxy_set_header"].entries == (("Connection", ""),)


def test_effective_if_variant_inherits_handler_and_adds_gzip(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(MAIN)
    match = select_locations(load_config([str(tmp_path / "nginx.conf")]), ["/api/chat"])[0]
    base, when_post = (Effective(chain) for chain in variants(match.chain))
    assert base["gzip"].value == "off"
    assert when_post["gzip"].value == "on" and when_post["gzip"].level == "if"
    handler = when_post.handler()
    assert handler is not None and handler.value == "http://127.0.0.1:7776"
