"""Where things are in one file's text: a location or server by line, its body's range, its indentation."""

from __future__ import annotations

from dataclasses import dataclass

from versectl.fix.syntax import Node, Statement, walk

DEFAULT_UNIT = "    "


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file is written, so inserted text looks like the user's own."""

    unit: str
    """One level of indentation (four spaces, two spaces, a tab...)."""
    newline: str
    """"\\r\\n" when the file uses CRLF line ends, else "\\n"."""


def find_statement(
    nodes: list[Node], name: str, line: int, args: list[str] | None = None
) -> Statement | None:
    """The block statement `name` starting on `line` (and with `args`, when given)."""
    for statement, _parents in walk(nodes):
        if statement.name != name or statement.line != line or statement.block is None:
            continue
        if args is None or statement.args == args:
            return statement
    return None


def line_start(text: str, offset: int) -> int:
    """The offset of the first character of the line holding `offset`."""
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """The offset of the newline ending the line holding `offset` (or len(text))."""
    end = text.find("\n", offset)
    return len(text) if end < 0 else end


def indentation_of(text: str, offset: int) -> str | None:
    """The whitespace before `offset` on its line; None when something else precedes it."""
    prefix = text[line_start(text, offset) : offset]
    return prefix if prefix.strip(" \t") == "" else None


def statement_indent(text: str, statement: Statement, fallback: str) -> str:
    """The indentation of the line a statement starts on, or `fallback` when it shares a line."""
    found = indentation_of(text, statement.start)
    return fallback if found is None else found


def detect_layout(text: str, nodes: list[Node]) -> Layout:
    """The file's indentation unit (from a child indented on its own line under its parent)."""
    newline = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
    for statement, _parents in walk(nodes):
        if not statement.block:
            continue
        parent = indentation_of(text, statement.start)
        for child in statement.block:
            child_indent = indentation_of(text, child.start)
            if (
                parent is not None
                and child_indent is not None
                and child_indent.startswith(parent)
                and len(child_indent) > len(parent)
            ):
                return Layout(child_indent[len(parent) :], newline)
    return Layout(DEFAULT_UNIT, newline)


def body_range(text: str, statement: Statement) -> tuple[int, int]:
    """The range to replace to give a block statement a new body, keeping its header and `}`.

    Starts after the `{` (after the rest of that line too when it holds only a comment, so a
    `{  # api` comment stays) and ends at the `}` (including the indentation before it).
    """
    assert statement.block is not None
    start = statement.open_brace + 1
    rest_end = line_end(text, start)
    rest = text[start:rest_end].strip(" \t\r")
    if (rest == "" or rest.startswith("#")) and rest_end < len(text):
        start = rest_end + 1
    end = statement.close_brace
    before_close = line_start(text, end)
    if text[before_close:end].strip(" \t") == "" and before_close >= start:
        end = before_close
    return start, end
