"""missing-location says what nginx really answers: a server-level `return` (measured on the
real-world corpus: a plain server's redirect to https), else a 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.load import load_config

REDIRECT = "server {\n    listen 80;\n    return 301 https://$host$request_uri;\n}\n"
STATIC = "server {\n    listen 80;\n    location / { root /srv; }\n}\n"
CATCH_NONE = "server {\n    listen 80;\n    location = /health { return 200; }\n}\n"


@pytest.mark.parametrize(
    ("site", "answer"),
    [
        (REDIRECT, "(`return 301 https://$host$request_uri;`)"),
        (CATCH_NONE, "(404)"),
        (REDIRECT + CATCH_NONE.replace("80", "8080"), "(404)"),
    ],
)
def test_missing_location_names_the_answer(site: str, answer: str, tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text(site)
    result = run_check(load_config([str(path)]), CheckOptions(uris=("/api/chat",), offline=True))
    messages = [f.message for f in result.findings if f.rule == "missing-location"]
    assert messages == [
        f"no location matches /api/chat in any server: nginx answers it itself {answer}"
    ]


def test_a_static_catch_all_is_not_missing(tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text(STATIC)
    result = run_check(load_config([str(path)]), CheckOptions(uris=("/api/chat",), offline=True))
    assert "missing-location" not in {f.rule for f in result.findings}


PLAIN_REDIRECT_AND_TLS = (
    "server {\n    listen 80;\n    server_name chat.example;\n"
    "    return 301 https://$host$request_uri;\n}\n"
    "server {\n    listen 443 ssl;\n    server_name chat.example;\n"
    "    location / { root /srv; }\n}\n"
)


def _selected(site: str, tmp_path: Path, port: int) -> list[tuple[str, str, tuple[str, ...]]]:
    path = tmp_path / "site.conf"
    path.write_text(site)
    options = CheckOptions(
        uris=("/api/chat",), offline=True, host="chat.example", port=(None, port)
    )
    result = run_check(load_config([str(path)]), options)
    return [
        (f.severity.value, f.message, tuple(c.value for c in f.clients))
        for f in result.findings
        if f.rule == "missing-location"
    ]


def test_missing_location_under_host_port_names_the_selected_server(tmp_path: Path) -> None:
    # the TLS server is selected: it alone is named, with its clients (not plain HTTP)
    site = PLAIN_REDIRECT_AND_TLS.replace("location / { root /srv; }", "location = /x { }")
    [(severity, message, clients)] = _selected(site, tmp_path, 443)
    assert severity == "error"
    assert message == (
        f"no location matches /api/chat in the selected server chat.example ({tmp_path}/site.conf:6)"
        ": nginx answers it itself (404)"
    )
    assert clients == ("http1.1+tls",)


def test_missing_location_a_selected_redirect_to_https_is_an_info(tmp_path: Path) -> None:
    site = PLAIN_REDIRECT_AND_TLS.replace("location / { root /srv; }", "location = /x { }")
    [(severity, message, clients)] = _selected(site, tmp_path, 80)
    assert severity == "info"
    assert message == (
        "the selected server chat.example "
        f"({tmp_path}/site.conf:1) redirects /api/chat to https "
        "(`return 301 https://$host$request_uri;`); the https server is the one that streams"
    )
    assert clients == ("http1.1",)


def test_missing_location_a_selected_redirect_elsewhere_is_still_an_error(tmp_path: Path) -> None:
    site = PLAIN_REDIRECT_AND_TLS.replace("https://$host$request_uri", "https://$host/")
    site = site.replace("location / { root /srv; }", "location = /x { }")
    [(severity, message, _clients)] = _selected(site, tmp_path, 80)
    assert severity == "error" and "`return 301 https://$host/;`" in message
