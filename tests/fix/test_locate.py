"""Finding blocks, their body ranges and the file's own indentation."""

from __future__ import annotations

import pytest

from versectl.fix.locate import body_range, detect_layout, find_statement, statement_indent
from versectl.fix.syntax import parse


def test_locate_find_statement_by_line_and_args() -> None:
    text = "server {\n  location /a { }\n  location /b { } location /c { }\n}\n"
    nodes = parse(text)
    assert find_statement(nodes, "location", 2) is not None
    found = find_statement(nodes, "location", 3, ["/c"])
    assert found is not None and found.args == ["/c"]
    assert find_statement(nodes, "location", 4) is None


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("location /api {\n    a 1;\n}\n", "    a 1;\n"),
        ("location /api {  # note\n    a 1;\n  }\n", "    a 1;\n"),
        ("location /api { a 1; }", " a 1; "),
        ("location /api {\n    a 1; }", "    a 1; "),
    ],
    ids=["plain", "comment-after-brace-stays", "one-line", "brace-after-statement"],
)
def test_locate_body_range(text: str, body: str) -> None:
    (location,) = parse(text)
    start, end = body_range(text, location)
    assert text[start:end] == body


@pytest.mark.parametrize(
    ("text", "unit", "newline"),
    [
        ("server {\n    listen 80;\n}\n", "    ", "\n"),
        ("server {\n  listen 80;\n}\n", "  ", "\n"),
        ("server {\n\tlisten 80;\n}\n", "\t", "\n"),
        ("server {\r\n  listen 80;\r\n}\r\n", "  ", "\r\n"),
        ("server { listen 80; }\n", "    ", "\n"),
    ],
    ids=["four", "two", "tab", "crlf", "none-found-default"],
)
def test_locate_detect_layout(text: str, unit: str, newline: str) -> None:
    layout = detect_layout(text, parse(text))
    assert (layout.unit, layout.newline) == (unit, newline)


def test_locate_statement_indent_falls_back_when_sharing_a_line() -> None:
    text = "server { location /a { } }\n\t\tlocation /b { }\n"
    server, other = parse(text)
    assert statement_indent(text, other, "?") == "\t\t"
    assert statement_indent(text, server.block[0], "?") == "?"
