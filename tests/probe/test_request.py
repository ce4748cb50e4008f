"""Command-line values become one request: default chat bodies, -d, -H, -b, bad input."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from versectl.errors import InputError
from versectl.probe.request import MAX_BODY_BYTES, build_request


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


def _body_error(tmp_path: Path, name: str) -> str:
    with pytest.raises(InputError) as caught:
        build_request("http://h/x", data=f"@{name}")
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.timeout(10)  # a FIFO opened for reading would wait for a writer forever
def test_request_data_file_must_be_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in _body_error(tmp_path, str(fifo))
    assert "not a regular file" in _body_error(tmp_path, "/dev/zero")
    assert "a directory" in _body_error(tmp_path, str(tmp_path))
    assert "No such file" in _body_error(tmp_path, str(tmp_path / "missing.json"))


def test_request_data_file_is_read_with_a_cap(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(MAX_BODY_BYTES * 4)  # sparse: costs no disk
    assert "larger than 8 MiB" in _body_error(tmp_path, str(huge))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"message": "\xff\xfe"}', "is not UTF-8 (byte 13)"),
        (b"message=hello", "is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_request_data_file_content_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(content)
    assert message in _body_error(tmp_path, str(path))


def test_request_data_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"message": "hi"}')))
    request = build_request("http://h/x", data="@-")
    assert request.body == b'{"message": "hi"}' and request.method == "POST"
