"""The redirect recogniser check and fix share: which statement answers a request before any
backend, and whether it sends the client to https for the same URI."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.directive import Directive
from versectl.nginx.load import load_config
from versectl.nginx.model import select_locations
from versectl.nginx.model.redirect import is_redirect, nginx_answer, to_https_same_uri

URI = "/api/chat/message"


def _statement(text: str) -> Directive:
    return Directive(text.split()[0], tuple(text.rstrip(";").split()[1:]), "x.conf", 1)


@pytest.mark.parametrize(
    ("text", "same"),
    [
        ("return 301 https://$host$request_uri;", True),
        ("return 308 https://chat.example:8443$request_uri;", True),
        ("return https://$server_name$request_uri;", True),  # a 302
        ("return 302 https://$host$uri$is_args$args;", True),
        ("rewrite ^ https://$host$request_uri? permanent;", True),
        ("rewrite ^(.*)$ https://$host$1 permanent;", True),
        ("rewrite ^/(.*)$ https://$host/$1 redirect;", True),
        ("return 301 http://$host$request_uri;", False),  # plain http
        ("return 301 https://$host/;", False),  # another path
        ("return 301 https://$host/app$request_uri;", False),
        ("return 301 https://$request_uri;", False),  # no host
        ("return 200 https://$host$request_uri;", False),  # a body, not a Location
        ("rewrite ^/old/ https://$host$request_uri? permanent;", False),  # misses the URI
        ("rewrite ^/(.*)$ https://$host/app/$1 permanent;", False),
        ("rewrite ^/(api)/(.*)$ https://$host/$1 permanent;", False),
        ("rewrite ^(a+)+$ https://$host$1 permanent;", False),
        ("rewrite ^ /index.html last;", False),  # internal, not a redirect
    ],
)
def test_redirect_to_https_same_uri(text: str, same: bool) -> None:
    assert to_https_same_uri(_statement(text), URI) is same


def test_redirect_internal_rewrite_is_not_a_redirect() -> None:
    assert not is_redirect(_statement("rewrite ^ /index.html last;"))
    assert is_redirect(_statement("rewrite ^ /login redirect;"))
    assert not is_redirect(_statement("return 404;"))


@pytest.mark.parametrize(
    ("server", "answer"),
    [
        (
            "listen 80; if ($host = a) { return 301 https://$host$request_uri; } return 404;",
            "return 301 https://$host$request_uri;",
        ),
        (
            "listen 80; return 404; if ($host = a) { return 301 https://$host$request_uri; }",
            "return 404;",
        ),
        (
            "listen 80; location / { return 301 https://$host$request_uri; }",
            "return 301 https://$host$request_uri;",
        ),
        (
            "listen 80; rewrite ^ https://$host$request_uri? permanent; location / { }",
            "rewrite ^ https://$host$request_uri? permanent;",
        ),
        # with TLS the server-level `if` lets the https requests through to the locations
        (
            "listen 80; listen 443 ssl; if ($scheme = http) { return 301 https://$host$request_uri; }"
            " location / { proxy_pass http://127.0.0.1:1; }",
            None,
        ),
        ("listen 80; location / { proxy_pass http://127.0.0.1:1; }", None),
    ],
)
def test_redirect_nginx_answer(server: str, answer: str | None, tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(f"server {{ {server} }}\n")
    [match] = select_locations(load_config([str(site)]), [URI], None, None)
    found = nginx_answer(match)
    assert (found.render() if found is not None else None) == answer
