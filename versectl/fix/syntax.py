"""fix's view of a config: check's lexer (versectl.nginx.lexer) tokens nested into statements,
blocks and comments with exact offsets, which a surgical edit needs. Offsets index the text
decoded with `surrogateescape`, which round-trips every byte."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from versectl.errors import ConfigParseError
from versectl.nginx.lexer import tokens

_NEEDS_QUOTES = frozenset(" \t\r\n;{}\"'\\")


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


def parse(text: str, file: str = "<config>") -> list[Node]:
    """The statements and comments of `text`, nested by blocks; ConfigParseError if malformed."""
    root: list[Node] = []
    stack: list[tuple[Statement | None, list[Node]]] = [(None, root)]
    words: list[Word] = []
    pending_comments: list[Comment] = []
    first_line = 0
    for value, line, quoted, start, end in tokens(text, file, comments=True):
        parent, nodes = stack[-1]
        if quoted or value not in ("{", ";", "}"):
            if not quoted and value.startswith("#"):
                comment = Comment(start, end, line, value)
                (pending_comments if words else nodes).append(comment)
                continue
            if not words:
                first_line = line
            words.append(Word(value, start, end, quoted))
        elif value != "}":
            if not words:
                raise ConfigParseError(f'unexpected "{value}"', file, line)
            statement = Statement(
                words, words[0].start, end, first_line, line, comments_inside=pending_comments
            )
            nodes.append(statement)
            if value == "{":
                statement.block, statement.open_brace = [], start
                stack.append((statement, statement.block))
            words, pending_comments = [], []
        else:
            if words or parent is None:
                raise ConfigParseError('unexpected "}"', file, line)
            parent.close_brace, parent.end = start, end
            parent.close_line = parent.end_line = line
            stack.pop()
    if words or len(stack) > 1:
        last_line = text.count("\n") + 1
        raise ConfigParseError('unexpected end of file, expecting ";" or "}"', file, last_line)
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
