"""proxy_pass resolution: URLs, upstream blocks, unix sockets, variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.load import load_config
from versectl.nginx.model import resolve_handler, upstreams
from versectl.nginx.model.variables import literal_sets

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


VARIABLES = """
server {
    set $server 127.0.0.1;
    set $port 8080;
    set $maybe 1.2.3.4;
    if ($http_x) { set $maybe 5.6.7.8; }
    set $computed $host;
    location /npm { proxy_pass http://$server:$port$request_uri; }
    location /own { set $port 9090; proxy_pass http://$server:$port; }
    location /literal { proxy_pass http://api:3080$request_uri; }
    location /args { proxy_pass http://api:3080$is_args$args; }
    location /if { proxy_pass http://$maybe:80; }
    location /computed { proxy_pass http://$computed; }
    location /unknown { proxy_pass http://$nowhere:1; }
}
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/npm", ("127.0.0.1", 8080, None)),
        ("/own", ("127.0.0.1", 9090, None)),  # the location's own `set` wins
        ("/literal", ("api", 3080, None)),
        ("/args", ("api", 3080, None)),
        ("/if", (None, None, "a variable")),  # set differently inside an `if`
        ("/computed", (None, None, "a variable")),  # its value is a variable itself
        ("/unknown", (None, None, "a variable")),
    ],
)
def test_targets_behind_variables(tmp_path: Path, path: str, expected: tuple[object, ...]) -> None:
    site = tmp_path / "site.conf"
    site.write_text(VARIABLES)
    config = load_config([str(site)])
    server = next(d for d in config.root if d.name == "server")
    location = next(loc for loc in server.children("location") if loc.args == (path,))
    handler = next(location.children("proxy_pass"))
    (target,) = resolve_handler(handler, upstreams(config), literal_sets((server, location)))
    unresolved = target.unresolved and "a variable" * ("a variable" in target.unresolved)
    assert (target.host, target.port, unresolved or None) == expected
