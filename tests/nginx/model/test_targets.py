"""proxy_pass resolution: URLs, upstream blocks, unix sockets, variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.load import load_config
from versectl.nginx.model import resolve_handler, upstreams

SITE = """
upstream verse { server 127.0.0.1:7776 weight=2; server unix:/run/verse.sock; }
server {
    location /a { proxy_pass http://verse; }
    location /b { proxy_pass https://[::1]:8443/api/; }
    location /c { proxy_pass http://$backend; }
    location /d { proxy_pass http://localhost; }
    location /e { grpc_pass grpc://127.0.0.1:50051; }
    location /f { uwsgi_pass 127.0.0.1:3031; }
}
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a", [("127.0.0.1", 7776, None), (None, None, "/run/verse.sock")]),
        ("/b", [("[::1]", 8443, None)]),
        ("/d", [("localhost", 80, None)]),
        ("/e", [("127.0.0.1", 50051, None)]),
        ("/f", [("127.0.0.1", 3031, None)]),
    ],
)
def test_targets_resolved(tmp_path: Path, path: str, expected: list[tuple[object, ...]]) -> None:
    site = tmp_path / "site.conf"
    site.write_text(SITE)
    config = load_config([str(site)])
    server = next(d for d in config.root if d.name == "server")
    location = next(loc for loc in server.children("location") if loc.args == (path,))
    handler = next(d for d in location.block or () if d.name.endswith("_pass"))
    targets = resolve_handler(handler, upstreams(config))
    assert [(t.host, t.port, t.unix) for t in targets] == expected
    assert all(t.is_local for t in targets if t.host)


def test_targets_variable_is_unresolved(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(SITE)
    config = load_config([str(site)])
    server = next(d for d in config.root if d.name == "server")
    location = next(loc for loc in server.children("location") if loc.args == ("/c",))
    (target,) = resolve_handler(next(location.children("proxy_pass")), upstreams(config))
    assert target.host is None and target.unresolved and "variable" in target.unresolved
