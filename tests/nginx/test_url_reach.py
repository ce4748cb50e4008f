"""The server a doctor URL reaches: host, port, address (an IP in the URL or --resolve) and the
scheme's listeners; a port no server listens on falls back to the Host on every listener."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.errors import InputError
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.load import load_config
from versectl.nginx.url_reach import reached, url_reach
from versectl.probe.request import parse_resolve

SITES = """server {
    listen 80 default_server;
    server_name _;
    return 301 https://$host$request_uri;
}
server {
    listen 443 ssl;
    server_name chat.example;
    location /api/ { proxy_pass http://127.0.0.1:7776; }
}
server {
    listen 127.0.0.1:443 ssl;
    server_name chat.example;
    location /api/ { proxy_pass http://127.0.0.1:7776; }
}
server {
    listen 443 ssl default_server;
    server_name other.example;
    location /api/ { proxy_pass http://127.0.0.1:7776; }
}
"""


def _reached(
    tmp_path: Path, url: tuple[str, str, int | None], resolve: tuple[str, ...] = ()
) -> list[str]:
    site = tmp_path / "sites-enabled" / "chat"
    site.parent.mkdir(exist_ok=True)
    site.write_text(SITES)
    config = load_config([str(site)])
    reach = url_reach(config, *url, [parse_resolve(item) for item in resolve])
    options = CheckOptions(
        uris=("/api/chat/message",), host=reach.host, port=reach.port, tls=reach.tls, offline=True
    )
    return reached(run_check(config, options), reach)


def test_url_reach_name_on_the_wildcard_listener(tmp_path: Path) -> None:
    assert _reached(tmp_path, ("https", "chat.example", None)) == [
        "the request for chat.example:443 reaches server chat.example (server_name "
        "chat.example) in sites-enabled/chat:6"
    ]


def test_url_reach_resolve_picks_the_address_specific_listener(tmp_path: Path) -> None:
    lines = _reached(tmp_path, ("https", "chat.example", 443), ("chat.example:443:127.0.0.1",))
    assert lines == [
        "the request for chat.example:443 reaches server chat.example (the only server on "
        "127.0.0.1:443) in sites-enabled/chat:11"
    ]


def test_url_reach_ip_url_reaches_the_default_server(tmp_path: Path) -> None:
    (line,) = _reached(tmp_path, ("https", "10.0.0.5", None))
    assert "reaches server other.example (default_server of *:443" in line


def test_url_reach_unknown_port_falls_back_to_the_schemes_listeners(tmp_path: Path) -> None:
    lines = _reached(tmp_path, ("https", "chat.example", 8443))
    assert lines[0].endswith("in sites-enabled/chat:6, on *:443")
    assert "no server of this config listens on port 8443" in lines[-1]
    assert not any("*:80" in line for line in lines)  # the plain listener is not https's


def test_url_reach_https_to_a_plain_port_says_it_cannot_work(tmp_path: Path) -> None:
    lines = _reached(tmp_path, ("https", "chat.example", 80))
    assert "*:80 does not speak TLS" in lines[-1]


@pytest.mark.parametrize(
    "bad",
    [
        "chat.example",
        "chat.example:443",
        "chat.example:0:127.0.0.1",
        "x:443:not-an-ip",
        ":1:1.2.3.4",
    ],
)
def test_parse_resolve_bad_values_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError, match="HOST:PORT:ADDRESS"):
        parse_resolve(bad)


def test_parse_resolve_forms() -> None:
    assert parse_resolve("Chat.Example.:443:127.0.0.1") == ("chat.example", 443, "127.0.0.1")
    assert parse_resolve("chat.example:443:[::1]") == ("chat.example", 443, "::1")
    assert parse_resolve("chat.example:443:::1") == ("chat.example", 443, "::1")
