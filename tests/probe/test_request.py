"""Command-line values become one request: default chat bodies, -d, -H, -b, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from versectl.errors import InputError
from versectl.probe.request import build_request


def test_request_chat_uri_gets_default_body_and_post() -> None:
    request = build_request("http://h/api/chat/message")
    assert request.method == "POST"
    assert request.body is not None
    body = json.loads(request.body)
    assert body["insight_id"] == 1 and body["message"]
    assert ("Content-Type", "application/json") in request.headers


def test_request_standalone_chat_body_has_no_insight() -> None:
    request = build_request("https://h/api/standalone-chat/")
    assert request.body is not None
    assert set(json.loads(request.body)) == {"message"}


def test_request_other_uri_is_a_get_without_body() -> None:
    request = build_request("http://h/events")
    assert (request.method, request.body) == ("GET", None)


def test_request_data_from_file_and_explicit_method(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text('{"message": "hi"}')
    request = build_request("http://h/x", data=f"@{path}", method="put")
    assert request.method == "PUT" and request.body == b'{"message": "hi"}'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "{not json"}, "not valid JSON"),
        ({"data": "@/no/such/file.json"}, "cannot read"),
        ({"headers": ["NoColon"]}, "Name: value"),
        ({"cookies": ["novalue"]}, "name=value"),
        ({"timeout": 0}, "positive"),
        ({"method": "GE T"}, "HTTP method"),
        ({"cookies": ["a=\u00e9t\u00e9"]}, "cannot carry"),
        ({"headers": ["X-A: 1\r\nX-B: 2"]}, "line break"),
        ({"headers": ["Bad Name: 1"]}, "Name: value"),
    ],
)
def test_request_bad_input_is_a_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_request("http://h/x", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["ftp://h/x", "/api/chat/message", "http://", "not a url", "http://h:99999/x"]
)
def test_request_bad_url(url: str) -> None:
    with pytest.raises(InputError, match="URL"):
        build_request(url)


def test_request_headers_and_cookies_parse() -> None:
    request = build_request(
        "http://h/x", headers=["X-A: 1", "Content-Type: text/plain"], cookies=["a=1; b=2", "c=3"]
    )
    assert ("X-A", "1") in request.headers
    assert request.cookies == (("a", "1"), ("b", "2"), ("c", "3"))
