"""`--uri` is matched as nginx matches it: a real nginx answers a set of odd request paths
(`//`, dot segments, %-escapes, `%2F`, `merge_slashes off`) with the name of the location it
selected, and the model must select the same one, or refuse the path where nginx says 400."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.nginx import NginxServer
from versectl.errors import InputError
from versectl.nginx.load import load_config
from versectl.nginx.model import select_locations
from versectl.nginx.model.select import normalize_uri

pytestmark = pytest.mark.e2e

LOCATIONS = """
    location / { return 200 "root"; }
    location /api/ { return 200 "api"; }
    location = /api/health { return 200 "health"; }
    location /x/ { return 200 "x"; }
    location ^~ /static/ { return 200 "static"; }
    location ~ \\.php$ { return 200 "php"; }
    location /caf\u00e9/ { return 200 "cafe"; }
    location /api/q? { return 200 "question"; }
    location /pct%/ { return 200 "percent"; }
"""

ODD_URIS = [
    "/api/health",
    "//api/health",
    "///api///health",
    "/x/../api/health",
    "/api//health",
    "/api/./health",
    "/api/health/.",
    "/api/health/",
    "/%61pi/health",
    "/api%2Fhealth",
    "/api%2fhealth",
    "/x/%2e%2e/api/health",
    "/x/%2E/y",
    "/x/..",
    "/x/../",
    "/static/../api/",
    "/static/x.php",
    "/a.php",
    "/a.p%68p",
    "/api/health?x=1",
    "/api/health?x=/../y",
    "/caf%C3%A9/",
    "/api/q%3F",
    "/api/q%3f/../",
    "/pct%25/",
    "/api/...",
    "/api/.hidden",
    "/x/.../..",
    "/x//..//api/health",
    "/..",
    "/../api/health",
    "/x/../../api",
    "/%2e%2e/api",
    "/%zz",
    "/api/%4",
    "/api%00/",
]


def _ask(server: NginxServer, uri: str) -> str:
    """The location nginx picked for the raw request path (its `return` body), or "400"."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(f"GET {uri} HTTP/1.0\r\nHost: t\r\n\r\n".encode())
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode()
    return body.decode() if status == "200" else status


def _model(site: Path, uri: str) -> str:
    config = load_config([str(site)])
    try:
        [match] = select_locations(config, [uri])
    except InputError:
        return "400"
    assert match.location is not None, uri
    return next(match.location.children("return")).args[1]


@pytest.mark.parametrize("merge", ["on", "off"])
def test_uri_normalized_as_real_nginx_selects(
    nginx: Callable[[str], NginxServer], merge: str
) -> None:
    server = nginx(
        f"server {{\n    listen 127.0.0.1:@PORT@;\n    merge_slashes {merge};\n{LOCATIONS}}}\n"
    )
    answers = {uri: _ask(server, uri) for uri in ODD_URIS}
    assert answers["/api/health"] == "health"
    assert "400" in answers.values() and len(set(answers.values())) > 5  # the set is varied
    modelled = {uri: _model(server.site_path, uri) for uri in ODD_URIS}
    assert modelled == answers


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("//api/health", "/api/health"),
        ("/x/../api/health", "/api/health"),
        ("/a/./b/.", "/a/b/"),
        ("/a%2F..%2Fb", "/b"),
        ("/%25%3F", "/%?"),
        ("/caf%C3%A9", "/caf\u00e9"),
        ("/a?b#c", "/a"),
    ],
)
def test_normalize_uri(uri: str, path: str) -> None:
    assert normalize_uri(uri) == path


def test_normalize_uri_without_merge_slashes() -> None:
    assert normalize_uri("//a//b/", merge_slashes=False) == "//a//b/"
    assert normalize_uri("/x//../a", merge_slashes=False) == "/x/a"


@pytest.mark.parametrize("uri", ["/..", "/a/../..", "/%2", "/%g0", "/a%00"])
def test_normalize_uri_refuses_what_nginx_answers_400(uri: str) -> None:
    with pytest.raises(InputError, match="nginx answers 400"):
        normalize_uri(uri)


@settings(max_examples=300, deadline=None)
@given(
    uri=st.lists(
        st.sampled_from(["/", ".", "..", "%2e", "%2F", "%25", "%3F", "a", "%", "?", "#", "\u00e9"]),
        max_size=20,
    ).map(lambda parts: "/" + "".join(parts))
)
def test_normalize_uri_yields_a_clean_path_or_a_400(uri: str) -> None:
    try:
        path = normalize_uri(uri)
    except InputError as exc:
        assert "nginx answers 400" in str(exc)
        return
    assert path.startswith("/") and "//" not in path
    segments = path.split("/")
    assert "." not in segments and ".." not in segments
