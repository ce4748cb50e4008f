"""Location selection follows ngx_http_core_find_location, case by case."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.load import load_config
from versectl.nginx.model import location_pattern, select_locations, server_name_matches

SITE = """
server {
    listen 80;
    server_name verse.example *.verse.example;
    location / { root /srv; }
    location /api { proxy_pass http://127.0.0.1:7776;
        location /api/chat { proxy_pass http://127.0.0.1:7776; }
        location ~ /message$ { proxy_pass http://127.0.0.1:7777; }
    }
    location = /api/exact { return 204; }
    location ^~ /api/static/ { root /srv; }
    location ~* \\.(css|js)$ { root /srv; }
    location ~ ^/api/standalone { proxy_pass http://127.0.0.1:7778; }
    location @fallback { proxy_pass http://127.0.0.1:9; }
    location =/api/noexact { return 204; }
}
server {
    listen 8080 default_server;
    server_name other.example;
    location /api/ { proxy_pass http://127.0.0.1:7776; }
}
"""


@pytest.fixture
def config(tmp_path: Path) -> object:
    site = tmp_path / "site.conf"
    site.write_text(SITE)
    return load_config([str(site)])


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/api/chat/message", "~ /message$"),  # nested regex inside the longest prefix
        ("/api/chat/other", "/api/chat"),  # nested prefix, no regex matches
        ("/api/exact", "= /api/exact"),  # exact stops everything
        ("/api/exact/more", "/api"),  # exact needs equality
        ("/api/static/app.css", "^~ /api/static/"),  # ^~ keeps the css regex away
        ("/app.CSS", "~* \\.(css|js)$"),  # case-insensitive regex beats the / prefix
        ("/api/standalone-chat", "~ ^/api/standalone"),  # outer regex beats /api
        ("/api/noexact", "=/api/noexact"),  # modifier glued to the path
        ("/other", "/"),
        ("/api/chat/message?x=1", "~ /message$"),  # the query string is not matched
    ],
)
def test_select_location(config: object, uri: str, expected: str) -> None:
    first = select_locations(config, [uri])[0]  # type: ignore[arg-type]
    assert first.location is not None
    assert " ".join(first.location.args) == expected


def test_select_chain_runs_from_http_to_nested(config: object) -> None:
    match = select_locations(config, ["/api/chat/message"])[0]  # type: ignore[arg-type]
    assert [d.name for d in match.chain] == ["http", "server", "location", "location"]
    assert match.chain[0].line == 0  # a site file: synthetic http level
    assert match.server_names == ("verse.example", "*.verse.example")
    assert match.listen == ("80",)


def test_select_every_server_or_by_name(config: object) -> None:
    everywhere = select_locations(config, ["/api/chat/message"])  # type: ignore[arg-type]
    assert [m.server_names[0] for m in everywhere] == ["verse.example", "other.example"]
    one = select_locations(config, ["/api/x"], server_name="a.verse.example")  # type: ignore[arg-type]
    assert [m.server_names[0] for m in one] == ["verse.example"]


def test_select_no_match_gives_none(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { location /static/ { root /srv; } }\n")
    match = select_locations(load_config([str(site)]), ["/api/chat/message"])[0]
    assert match.location is None
    assert [d.name for d in match.chain] == ["http", "server"]


def test_select_named_location_never_matches(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { location @api { proxy_pass http://x; } }\n")
    assert select_locations(load_config([str(site)]), ["/@api"])[0].location is None


def test_location_pattern_forms(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(
        "server { location ~*/x {} location ^~/y {} location = /z {} location /w {} }\n"
    )
    config = load_config([str(site)])
    server = next(d for d in config.root if d.name == "server")
    found = [location_pattern(loc) for loc in server.children("location")]
    assert [(p.modifier, p.pattern) for p in found] == [
        ("~*", "/x"),
        ("^~", "/y"),
        ("=", "/z"),
        ("", "/w"),
    ]


@pytest.mark.parametrize(
    ("name", "patterns", "matches"),
    [
        ("verse.example", ["verse.example"], True),
        ("a.verse.example", ["*.verse.example"], True),
        ("verse.example", ["*.verse.example"], False),
        ("verse.example", [".verse.example"], True),
        ("www.verse.org", ["www.verse.*"], True),
        ("api7.verse.example", ["~^api\\d+\\."], True),
        ("other", ["verse.example", "_"], False),
    ],
)
def test_server_name_forms(name: str, patterns: list[str], matches: bool) -> None:
    assert server_name_matches(name, patterns) is matches
