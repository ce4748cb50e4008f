"""The one nginx lexer (check and fix): nginx's own rules (ngx_conf_read_token), lossless:
every token, comments too on request, carries its line and its [start, end) offsets in the text.
One regex step per token: the lexer is what a large config spends its time in."""

from __future__ import annotations

import re
from collections.abc import Iterator

from versectl.errors import ConfigParseError

Token = tuple[str, int, bool, int, int]
"""(value, line, quoted, start, end): the value with nginx's escapes decoded; `quoted` for a
"..." or '...' token; `start:end` indexes the source text (the quotes included). Unquoted
`{`, `;`, `}` are punctuation; an unquoted value starting with `#` is a comment."""

MAX_DEPTH = 100
"""Blocks nested deeper than this are refused. nginx itself accepts 10,000 nested locations
(its parser recurses in C); real configs nest under 10, and every walk of the tree below
(parser, loader, location search, rules) stays far from Python's recursion limit at 100."""

_BOM = "\ufeff"

# nginx's whitespace is these four only (a form feed is part of a word). At a token's start:
# `#` opens a comment, `;{}` are punctuation, a quote opens a quoted token; elsewhere in a word
# all of `#}"'` are plain characters. A backslash keeps the next character in the word, `{`
# right after `$` belongs to it (`${var}`), and a closing quote must be followed by
# whitespace, `;`, `{` or `)` (the `)` then starts a word: `if ($a = "b")`).
_TOKEN = re.compile(
    r"""
    [ \t\r\n]*
    (?:
      (?P<comment>\#[^\n]*)
    | (?P<punct>[{};])
    | "(?P<dq>(?:[^"\\]|\\.)*)"(?P<dq_glued>[^ \t\r\n;{)])?
    | '(?P<sq>(?:[^'\\]|\\.)*)'(?P<sq_glued>[^ \t\r\n;{)])?
    | (?P<word>
        (?:[^ \t\r\n;{}\#"'\\$]|\\(?:.|\Z)|\$\{*)
        (?:[^ \t\r\n;{\\$]+|\\(?:.|\Z)|\$\{*)*
      )
    | (?P<end>\Z)
    | (?P<other>.)
    )
    """,
    re.VERBOSE | re.DOTALL,
)

# ngx_conf_read_token's copy loop: these escapes are decoded, any other backslash is kept
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


def unescape(raw: str) -> str:
    """A token's source text (quotes stripped) as nginx stores it."""
    if "\\" not in raw:
        return raw
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m[1], m[0]), raw)


def tokens(text: str, path: str, *, comments: bool = False) -> list[Token]:
    """All tokens of `text` (comments only when asked); unbalanced braces, blocks nested over
    MAX_DEPTH, an unterminated or glued quote or a byte order mark raise ConfigParseError with
    nginx's wording and the line."""
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
        if kind == "dq_glued" or kind == "sq_glued":
            kind = kind[:2]
            glued = match.start(kind + "_glued")
            raise ConfigParseError(
                f'unexpected "{text[glued]}"', path, line + count("\n", last, glued)
            )
        start = match.start(kind)
        line += count("\n", last, start)
        last = start
        if kind == "word":
            end = match.end(kind)
            append((unescape(match.group(kind)), line, False, start, end))
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
            append((value, line, False, start, start + 1))
        elif kind == "dq" or kind == "sq":
            end = match.end(kind)
            append((unescape(match.group(kind)), line, True, start - 1, end + 1))
        elif kind == "comment":
            if comments:
                append((match.group(kind), line, False, start, match.end(kind)))
        elif kind == "end":
            break
        else:  # only a quote that never closes gets here
            raise ConfigParseError("unexpected end of file, unterminated quote", path, line)
    if depth > 0:
        raise ConfigParseError('unexpected end of file, expecting "}"', path, line)
    return found


def is_comment(token: Token) -> bool:
    """True for a `#` comment (only `tokens(..., comments=True)` yields them)."""
    return not token[2] and token[0].startswith("#")


def iter_tokens(text: str, path: str) -> Iterator[Token]:
    return iter(tokens(text, path))
