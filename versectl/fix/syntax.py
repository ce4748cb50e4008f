"""nginx configuration syntax with exact source offsets: tokens, statements, blocks, comments.

Hand-written rather than crossplane because a surgical edit needs what crossplane drops: the
offset where each statement and block starts and ends (crossplane reports a start line only and
unquotes arguments), and the comments between statements. It mirrors nginx's own lexer
(ngx_conf_read_token in src/core/ngx_conf_file.c): quotes, backslash escapes, `#` comments only
at the start of a token, `${` inside a word, and a quoted token must be followed by a separator.
Offsets index the text decoded with `surrogateescape`, which round-trips every byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from versectl.errors import ConfigParseError

_SPACE = frozenset(" \t\r\n")
_WORD_END = frozenset(" \t\r\n;{")
_NEEDS_QUOTES = frozenset(" \t\r\n;{}\"'\\")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "r": "\r", "n": "\n"}


@dataclass(frozen=True, slots=True)
class Word:
    """One argument as nginx sees it (`value`, escapes decoded) and where it is in the source."""

    value: str
    start: int
    end: int
    quoted: bool


@dataclass(frozen=True, slots=True)
class Comment:
    """A `#` comment: from the `#` to the end of its line (the newline is not part of it)."""

    start: int
    end: int
    line: int
    text: str


@dataclass(slots=True)
class Statement:
    """A directive: `words[0]` is its name. `block` is None for a simple `name args;`."""

    words: list[Word]
    start: int
    end: int
    """Just past the `;` or the closing `}`."""
    line: int
    end_line: int
    block: list[Node] | None = None
    open_brace: int = -1
    close_brace: int = -1
    close_line: int = 0
    comments_inside: list[Comment] = field(default_factory=list)
    """Comments between the words of this statement (rare, but nginx allows them)."""

    @property
    def name(self) -> str:
        return self.words[0].value

    @property
    def args(self) -> list[str]:
        return [word.value for word in self.words[1:]]


Node = Statement | Comment


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", ";", "{", "}", "#"
    start: int
    end: int
    line: int
    word: Word | None = None
    comment: Comment | None = None


def _error(message: str, file: str, line: int) -> ConfigParseError:
    return ConfigParseError(message, file, line)


def _tokens(text: str, file: str) -> Iterator[_Token]:
    i, n, line = 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            line += ch == "\n"
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            yield _Token("#", i, end, line, comment=Comment(i, end, line, text[i:end]))
            i = end
        elif ch in ";{}":
            yield _Token(ch, i, i + 1, line)
            i += 1
        else:
            start, start_line = i, line
            if ch in "\"'":
                value, i, line = _quoted(text, i, line, file)
                if i < n and text[i] not in _WORD_END and text[i] != ")":
                    raise _error(f'unexpected "{text[i]}"', file, line)
                word = Word(value, start, i, quoted=True)
            else:
                value, i, line = _bare(text, i, line)
                word = Word(value, start, i, quoted=False)
            yield _Token("word", start, i, start_line, word=word)


def _quoted(text: str, i: int, line: int, file: str) -> tuple[str, int, int]:
    """A quoted token starting at text[i]; returns its value, the offset after it, the line."""
    quote, i, n, out = text[i], i + 1, len(text), []
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            line += text[i + 1] == "\n"
            out.append(_ESCAPES.get(text[i + 1], ch + text[i + 1]))
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1, line
        line += ch == "\n"
        out.append(ch)
        i += 1
    raise _error("unexpected end of file, expecting a closing quote", file, line)


def _bare(text: str, i: int, line: int) -> tuple[str, int, int]:
    """An unquoted word starting at text[i]; `{` right after `$` belongs to it (`${var}`)."""
    n, out, variable = len(text), [], False
    while i < n:
        ch = text[i]
        if ch == "{" and variable:
            out.append(ch)
            i += 1
            continue
        variable = ch == "$"
        if ch == "\\" and i + 1 < n:
            line += text[i + 1] == "\n"
            out.append(_ESCAPES.get(text[i + 1], ch + text[i + 1]))
            i += 2
            continue
        if ch in _WORD_END:
            break
        out.append(ch)
        i += 1
    return "".join(out), i, line


def parse(text: str, file: str = "<config>") -> list[Node]:
    """The statements and comments of `text`, nested by blocks; ConfigParseError if malformed."""
    root: list[Node] = []
    stack: list[tuple[Statement | None, list[Node]]] = [(None, root)]
    words: list[Word] = []
    pending_comments: list[Comment] = []
    first_line = 0
    for token in _tokens(text, file):
        parent, nodes = stack[-1]
        if token.kind == "#":
            assert token.comment is not None
            (pending_comments if words else nodes).append(token.comment)
        elif token.kind == "word":
            assert token.word is not None
            if not words:
                first_line = token.line
            words.append(token.word)
        elif token.kind in ";{":
            if not words:
                raise _error(f'unexpected "{token.kind}"', file, token.line)
            statement = Statement(
                words, words[0].start, token.end, first_line, token.line,
                comments_inside=pending_comments,
            )  # fmt: skip
            nodes.append(statement)
            if token.kind == "{":
                statement.block, statement.open_brace = [], token.start
                stack.append((statement, statement.block))
            words, pending_comments = [], []
        else:  # "}"
            if words or parent is None:
                raise _error('unexpected "}"', file, token.line)
            parent.close_brace, parent.end = token.start, token.end
            parent.close_line = parent.end_line = token.line
            stack.pop()
    if words or len(stack) > 1:
        last_line = text.count("\n") + 1
        raise _error('unexpected end of file, expecting ";" or "}"', file, last_line)
    return root


def walk(
    nodes: list[Node], parents: tuple[Statement, ...] = ()
) -> Iterator[tuple[Statement, tuple[Statement, ...]]]:
    """Every statement, depth first in source order, with the statements enclosing it.
    Iterative: a hostile file nested thousands deep must not exhaust Python's stack."""
    stack: list[tuple[Iterator[Node], tuple[Statement, ...]]] = [(iter(nodes), parents)]
    while stack:
        children, enclosing = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            continue
        if isinstance(node, Statement):
            yield node, enclosing
            if node.block is not None:
                stack.append((iter(node.block), (*enclosing, node)))


def statements(nodes: list[Node]) -> list[Statement]:
    """The statements among `nodes` (one level, comments left out)."""
    return [node for node in nodes if isinstance(node, Statement)]


def quote_word(value: str) -> str:
    """`value` as nginx source: bare when nginx reads it back unchanged, else single-quoted."""
    if value and not value.startswith("#") and not any(ch in value for ch in _NEEDS_QUOTES):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
