"""A regex lexer producing exactly crossplane's tokens `(token, line, quoted)` (comments left
out), several times faster than crossplane's character-by-character generator: the lexer is
what a large config spends its time in. tests/nginx/test_lexer.py holds it to crossplane."""

from __future__ import annotations

import re
from collections.abc import Iterator

from versectl.errors import ConfigParseError

Token = tuple[str, int, bool]

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
    """All tokens of `text`; unbalanced braces or an unterminated quote raise ConfigParseError
    with nginx's wording and the line."""
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
