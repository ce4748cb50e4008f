"""A regex lexer producing exactly crossplane's tokens `(token, line, quoted)` (comments left
out), several times faster than crossplane's character-by-character generator: the lexer is
what a large config spends its time in. tests/nginx/test_lexer.py holds it to crossplane."""

from __future__ import annotations

import re
from collections.abc import Iterator

from versectl.errors import ConfigParseError

Token = tuple[str, int, bool]

MAX_DEPTH = 100
"""Blocks nested deeper than this are refused. nginx itself accepts 10,000 nested locations
(its parser recurses in C); real configs nest under 10, and every walk of the tree below
(parser, loader, location search, rules) stays far from Python's recursion limit at 100."""

_BOM = "\ufeff"

# Whitespace and comments are skipped inside the same match as the token after them: one
# regex step per token. Alternatives in crossplane's order of precedence.
_TOKEN = re.compile(
    r"""
    (?:\s+|\#[^\n]*)*
    (?:
      (?P<punct>[{};])
    | "(?P<dq>(?:[^"\\]|\\.)*)"
    | '(?P<sq>(?:[^'\\]|\\.)*)'
    | (?P<word>
        (?:[^\s{};\\"'\#$]|\\.|\$(?:\{[^}\s]*\})?)      # quotes and # only start other tokens
        (?:[^\s{};\\$]+|\\.|\$(?:\{[^}\s]*\})?)*        # ${var} keeps its braces
      )
    | (?P<end>\Z)
    | (?P<other>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str, path: str) -> list[Token]:
    """All tokens of `text`; unbalanced braces, blocks nested over MAX_DEPTH, an unterminated
    quote or a byte order mark raise ConfigParseError with nginx's wording and the line."""
    if text.startswith(_BOM):
        # nginx reads the BOM's bytes as part of the first word: `unknown directive "\ufeffhttp"`
        raise ConfigParseError(
            "the file starts with a UTF-8 byte order mark (BOM), which nginx rejects "
            "(unknown directive); save it as UTF-8 without BOM",
            path,
            1,
        )
    found: list[Token] = []
    append = found.append
    count = text.count
    line = 1
    last = 0
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "end"
        start = match.start(kind)
        line += count("\n", last, start)
        last = start
        if kind == "word":
            append((match.group(kind), line, False))
        elif kind == "punct":
            value = match.group(kind)
            if value == "{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigParseError(
                        f"blocks nested more than {MAX_DEPTH} deep (versectl's limit; "
                        "real configs nest under 10)",
                        path,
                        line,
                    )
            elif value == "}":
                depth -= 1
                if depth < 0:
                    raise ConfigParseError('unexpected "}"', path, line)
            append((value, line, False))
        elif kind == "dq":
            append((match.group("dq").replace('\\"', '"'), line, True))
        elif kind == "sq":
            append((match.group("sq").replace("\\'", "'"), line, True))
        elif kind == "end":
            break
        else:
            char = match.group("other")
            if char in "\"'":
                raise ConfigParseError("unexpected end of file, unterminated quote", path, line)
            # a lone backslash at the end of the file: part of a word, as for crossplane
            append((char, line, False))
    if depth > 0:
        raise ConfigParseError('unexpected end of file, expecting "}"', path, line)
    return found


def iter_tokens(text: str, path: str) -> Iterator[Token]:
    return iter(tokens(text, path))
