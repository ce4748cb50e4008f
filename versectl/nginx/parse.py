"""One file's text -> a tree of Directives (includes left in place): versectl.nginx.lexer's
tokens (nginx's rules) and crossplane's directive analyzer (contexts and argument counts), so
errors carry nginx's or crossplane's message and the file:line."""

from __future__ import annotations

from collections.abc import Iterator

from crossplane.analyzer import analyze, enter_block_ctx
from crossplane.errors import NgxParserBaseException

from versectl.errors import ConfigParseError
from versectl.nginx.directive import Directive
from versectl.nginx.lexer import Token, tokens

Context = tuple[str, ...]

MAIN: Context = ()
HTTP: Context = ("http",)
SERVER: Context = ("http", "server")

# Top-level statements that only make sense in nginx.conf itself (the "main" context).
_MAIN_ONLY = frozenset(
    {"http", "events", "stream", "mail", "worker_processes", "user", "pid", "load_module"}
)


def lex(text: str, path: str) -> list[Token]:
    """The tokens of `text`, comments left out (versectl.nginx.lexer); unbalanced braces raise
    ConfigParseError."""
    return tokens(text, path)


def guess_context(toks: list[Token]) -> Context:
    """The context a standalone file is written for: nginx.conf (main), a site file with
    `server {}` at top level (http), or a snippet of `location {}` blocks (server)."""
    names: set[str] = set()
    depth = 0
    expect_name = True
    for token, _line, quoted, _start, _end in toks:
        if not quoted and token in ("{", "}", ";"):
            depth += {"{": 1, "}": -1, ";": 0}[token]
            expect_name = True
        elif expect_name:
            if depth == 0:
                names.add(token)
            expect_name = False
    if names & _MAIN_ONLY:
        return MAIN
    if "location" in names and "server" not in names:
        return SERVER
    return HTTP


def parse_text(text: str, path: str, ctx: Context) -> tuple[Directive, ...]:
    """Parse one file written for context `ctx`; `include` statements are kept as they are."""
    return parse_tokens(lex(text, path), path, ctx)


def parse_tokens(toks: list[Token], path: str, ctx: Context) -> tuple[Directive, ...]:
    """Parse the tokens of one file written for context `ctx`."""
    try:
        block, closed_by = _parse_block(iter(toks), path, ctx)
    except NgxParserBaseException as exc:
        raise ConfigParseError(str(exc.strerror), exc.filename or path, exc.lineno) from None
    if closed_by is not None:  # _balance_braces already rejects this; belt and braces
        raise ConfigParseError('unexpected "}"', path, closed_by)
    return block


def _parse_block(
    tokens: Iterator[Token], path: str, ctx: Context
) -> tuple[tuple[Directive, ...], int | None]:
    """Statements up to the closing `}` (returns its line) or the end of the file (None)."""
    parsed: list[Directive] = []
    for token, line, quoted, _start, _end in tokens:
        if token == "}" and not quoted:  # noqa: S105 (a brace, not a password)
            return tuple(parsed), line
        if not quoted and token in ("{", ";"):
            raise ConfigParseError(f'unexpected "{token}"', path, line)
        args: list[str] = []
        term = _read_args(tokens, args, path, token, line)
        if term == "}":
            raise ConfigParseError(
                f'directive "{_shown(token)}" is not terminated by ";"', path, line
            )
        if token == "if":  # noqa: S105
            _strip_if_parentheses(args)
        _analyze(token, args, term, ctx, path, line)
        block: tuple[Directive, ...] | None = None
        if term == "{":
            inner_ctx: Context = enter_block_ctx({"directive": token}, ctx)
            block, closed_by = _parse_block(tokens, path, inner_ctx)
            if closed_by is None:
                raise ConfigParseError('unexpected end of file, expecting "}"', path, line)
        parsed.append(Directive(token, tuple(args), path, line, block))
    return tuple(parsed), None


# crossplane's verdict depends only on these facts of a statement, and a big config repeats the
# same few hundred combinations thousands of times: remember the ones that passed. (Failures are
# not cached: their message quotes the statement's own value.)
_PASSED: set[tuple[str, Context, str, int, bool]] = set()


def _analyze(name: str, args: list[str], term: str, ctx: Context, path: str, line: int) -> None:
    """crossplane's `analyze` (context and argument checks), memoized for valid statements."""
    key = (name, ctx, term, len(args), len(args) == 1 and args[0].lower() in ("on", "off"))
    if key not in _PASSED:
        stmt = {"directive": name, "line": line, "args": args}
        analyze(fname=path, stmt=stmt, term=term, ctx=ctx, strict=False)
        _PASSED.add(key)


def _read_args(tokens: Iterator[Token], args: list[str], path: str, name: str, line: int) -> str:
    """Collect a statement's arguments; return its terminator: `;`, `{` or `}`."""
    for token, _line, quoted, _start, _end in tokens:
        if not quoted and token in ("{", ";", "}"):
            return token
        args.append(token)
    raise ConfigParseError(
        f'unexpected end of file, expecting ";" or "}}" after "{_shown(name)}"', path, line
    )


def _shown(name: str) -> str:
    """A directive name for a one-line message: decoded escapes (`\\n`) may be control
    characters, shown escaped again."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _strip_if_parentheses(args: list[str]) -> None:
    # `if ($a = b)` lexes as ["($a", "=", "b)"]; nginx (and crossplane) drop the parentheses.
    if args and args[0].startswith("(") and args[-1].endswith(")"):
        args[0] = args[0][1:].lstrip()
        args[-1] = args[-1][:-1].rstrip()
        start = int(not args[0])
        end = len(args) - int(not args[-1])
        args[:] = args[start:end]
