"""Which blocks get fixed: the app's /api location, never another site's catch-all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fix.configs import seed_site
from versectl.errors import FixError
from versectl.fix.plan import plan_file
from versectl.fix.targets import find_targets
from versectl.nginx.check import DEFAULT_URIS
from versectl.nginx.load import load_config

OTHER_APP = "server {\n    listen 8080;\n    server_name grafana.local;\n    location / { proxy_pass http://127.0.0.1:3000; }\n}\n"


def _targets(tmp_path: Path, text: str, server_name: str | None = None) -> list[tuple[str, int]]:
    site = tmp_path / "site.conf"
    site.write_text(text)
    found = find_targets(load_config([str(site)]), str(site), DEFAULT_URIS, server_name)
    return [(t.kind, t.line) for t in found.targets]


def test_targets_seed_rewrites_the_api_block_only(tmp_path: Path) -> None:
    text = seed_site() + OTHER_APP
    line = text.splitlines().index("    location /api {") + 1
    # the www redirect server is skipped, grafana's catch-all is another app
    assert _targets(tmp_path, text) == [("rewrite", line)]


def test_targets_one_server_without_api_gets_an_insertion(tmp_path: Path) -> None:
    assert _targets(tmp_path, "server {\n    location / { root /srv; }\n}\n") == [("insert", 1)]


def test_targets_two_apps_without_api_need_a_name(tmp_path: Path) -> None:
    text = "server {\n    server_name verse.local;\n    location / { root /srv; }\n}\n" + OTHER_APP
    with pytest.raises(FixError, match="--server-name"):
        _targets(tmp_path, text)
    assert _targets(tmp_path, text, "verse.local") == [("insert", 1)]


def test_targets_only_redirects_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FixError, match="no server"):
        _targets(tmp_path, "server {\n    return 301 https://x$request_uri;\n}\n")


def test_targets_block_in_another_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "api.conf").write_text("location /api { proxy_pass http://127.0.0.1:8000; }\n")
    site = tmp_path / "site.conf"
    site.write_text(f"server {{\n    include {tmp_path}/api.conf;\n}}\n")
    config = load_config([str(site)])
    with pytest.raises(FixError, match=r"api\.conf:1"):
        find_targets(config, str(site), DEFAULT_URIS, None)
    found = find_targets(config, None, DEFAULT_URIS, None)
    assert found.path == str(tmp_path / "api.conf")


def test_targets_each_block_lists_the_uris_that_reach_it(tmp_path: Path) -> None:
    text = "server {\n    location / { root /srv; }\n    location /api/chat/ { proxy_pass http://h:1; }\n}\n"
    site = tmp_path / "site.conf"
    site.write_text(text)
    found = find_targets(load_config([str(site)]), str(site), DEFAULT_URIS, None)
    assert [(t.kind, t.line, t.uris) for t in found.targets] == [
        ("rewrite", 3, ("/api/chat/message",)),
        ("insert", 1, ("/api/standalone-chat",)),
    ]


TLS = (
    "server {\n    listen 443 ssl;\n    server_name chat.example.org;\n"
    "    location / { proxy_pass http://127.0.0.1:3000; }\n}\n"
)


@pytest.mark.parametrize(
    "plain",
    [
        # certbot's way, with and without its trailing `return 404`
        "server {\n    if ($host = chat.example.org) {\n        return 301 https://$host$request_uri;\n"
        "    } # managed by Certbot\n    listen 80;\n    server_name chat.example.org;\n"
        "    return 404; # managed by Certbot\n}\n",
        "server {\n    if ($host = chat.example.org) {\n        return 301 https://$host$request_uri;\n"
        "    }\n    listen 80;\n    server_name chat.example.org;\n"
        "    location / { proxy_pass http://127.0.0.1:3000; }\n}\n",
        "server {\n    listen 80;\n    server_name chat.example.org;\n"
        "    location / {\n        return 308 https://$host$request_uri;\n    }\n}\n",
        "server {\n    listen 80;\n    server_name chat.example.org;\n"
        "    rewrite ^ https://$host$request_uri permanent;\n}\n",
    ],
    ids=["certbot", "certbot-no-404", "location-return", "rewrite"],
)
def test_targets_redirect_servers_are_left_alone_the_tls_server_gets_the_fix(
    tmp_path: Path, plain: str
) -> None:
    text = plain + TLS
    tls_line = text.splitlines().index("    listen 443 ssl;")  # the server line is just above
    assert _targets(tmp_path, text) == [("insert", tls_line)]


def test_targets_a_scheme_redirect_in_a_tls_server_still_gets_the_fix(tmp_path: Path) -> None:
    # Nginx Proxy Manager: one server for both, `if ($scheme = "http")` redirects plain HTTP
    # before any location is chosen, so a new location there cannot weaken it.
    text = (
        "server {\n    listen 80;\n    listen 443 ssl;\n    server_name chat.example.org;\n"
        '    if ($scheme = "http") {\n        return 301 https://$host$request_uri;\n    }\n'
        "    location / { proxy_pass http://127.0.0.1:3000; }\n}\n"
    )
    assert _targets(tmp_path, text) == [("insert", 1)]


def test_targets_new_block_inherits_from_the_server(tmp_path: Path) -> None:
    text = (
        "server {\n    proxy_buffering off;\n"
        "    location / {\n        proxy_pass http://127.0.0.1:3000;\n        proxy_buffering on;\n"
        "    }\n}\n"
    )
    site = tmp_path / "site.conf"
    site.write_text(text)
    (target,) = find_targets(load_config([str(site)]), str(site), DEFAULT_URIS, None).targets
    assert target.kind == "insert" and target.source == (3, ("/",))
    assert dict(target.inherited)["proxy_buffering"] == ("off",)


def test_targets_carry_literal_set_values_to_the_plan(tmp_path: Path) -> None:
    # Nginx Proxy Manager's layout: the address is in the server's `set` lines
    site = tmp_path / "site.conf"
    site.write_text(
        'server {\n    listen 80;\n    set $forward_scheme http;\n    set $server "127.0.0.1";\n'
        "    set $port 8000;\n    location /api {\n"
        "        proxy_pass $forward_scheme://$server:$port$request_uri;\n    }\n}\n"
    )
    found = find_targets(load_config([str(site)]), str(site), ("/api/chat/message",), None)
    (target,) = found.targets
    assert dict(target.variables) == {
        "forward_scheme": "http",
        "server": "127.0.0.1",
        "port": "8000",
    }
    plan = plan_file(str(site), site.read_text(), [target], port=7776)
    (change,) = plan.changes
    assert "$forward_scheme://$server:$port$request_uri;" in plan.candidate  # left as written
    assert any("http://127.0.0.1:8000" in n and "7776" in n for n in change.merge.notes)
