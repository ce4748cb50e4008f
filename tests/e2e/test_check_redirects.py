"""Plain servers that only redirect, on one real nginx (one server_name per redirect form): what
the plain port answers for the chat URI (30x and its Location) decides whether check may call it
harmless. A redirect to https for the same URI is an info of no-proxy-pass / missing-location
(the https server is the one that streams); a redirect to plain http or another path stays an
error."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.nginx import NginxServer
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Severity
from versectl.nginx.load import load_config

pytestmark = pytest.mark.e2e

URI = "/api/chat/message"
FORMS = {
    # certbot's server: the `if` for its name, then `return 404` for any other Host
    "certbot.test": "if ($host = certbot.test) {\n return 301 https://$host$request_uri;\n}\n"
    "return 404;",
    "certbot-root.test": "if ($host = certbot-root.test) {\n"
    " return 301 https://$host$request_uri;\n}\nlocation / { root /nonexistent; }",
    "location-return.test": "location /.well-known/acme-challenge/ { root /nonexistent; }\n"
    "location / { return 301 https://$host$request_uri; }",
    "server-return.test": "return 308 https://$server_name$request_uri;\n"
    "location / { root /nonexistent; }",
    "server-return-only.test": "return 301 https://server-return-only.test$request_uri;",
    "rewrite.test": "rewrite ^ https://$host$request_uri? permanent;\n"
    "location / { root /nonexistent; }",
    "rewrite-capture.test": "location / { rewrite ^/(.*)$ https://$host/$1 permanent; }",
    # not exempt: the client never asks an https server for the chat URI
    "to-http.test": "location / { return 301 http://plain.example$request_uri; }",
    "to-path.test": "location / { return 301 https://$host/; }",
    "rewrite-path.test": "location / { rewrite ^/(.*)$ https://$host/app/$1 permanent; }",
}
EXEMPT = {name for name in FORMS if not name.startswith(("to-", "rewrite-path"))}
RULES = {"no-proxy-pass", "missing-location"}


def _site() -> str:
    return "".join(
        f"server {{\nlisten 127.0.0.1:@PORT@;\nserver_name {name};\n{body}\n}}\n"
        for name, body in FORMS.items()
    )


def test_check_redirects_agree_with_what_the_plain_port_answers(
    nginx: Callable[[str], NginxServer],
) -> None:
    server = nginx(_site())
    for name in FORMS:
        response = httpx.post(
            f"{server.url}{URI}", headers={"Host": name}, content=b"{}", timeout=10
        )
        location = urlsplit(response.headers.get("location", ""))
        to_https_same_uri = (
            response.status_code in (301, 302, 303, 307, 308)
            and location.scheme == "https"
            and location.path == URI
        )
        # measured: exactly the forms the recogniser exempts send the client to https for URI
        assert to_https_same_uri is (name in EXEMPT), (name, response.status_code, location)

        options = CheckOptions(
            uris=(URI,), offline=True, backend_port=7776, host=name, port=(None, server.port)
        )
        result = run_check(load_config([str(server.conf_path)]), options)
        mine = [f for f in result.findings if f.rule in RULES]
        assert mine, name
        severities = {f.severity for f in mine}
        if name in EXEMPT:
            assert severities == {Severity.info}, [f.message for f in mine]
            assert all("the https server is the one that streams" in f.message for f in mine)
        else:
            assert Severity.error in severities, [f.message for f in mine]
        assert all(f.clients == ("http1.1",) for f in mine), name
