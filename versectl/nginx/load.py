"""Load an nginx configuration: read the sources, parse each file, and splice `include`d files
in place (globs resolved like nginx), so one tree holds the whole config with exact positions."""

from __future__ import annotations

import gc
import glob as _glob
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from versectl.errors import ConfigLoadError, ConfigParseError
from versectl.nginx import sources
from versectl.nginx.directive import Directive
from versectl.nginx.lexer import MAX_DEPTH, Token
from versectl.nginx.parse import MAIN, Context, guess_context, lex, parse_tokens

__all__ = [
    "ConfigLoadError",
    "ConfigParseError",
    "Directive",
    "LoadedConfig",
    "MissingInclude",
    "cyclic_gc_paused",
    "load_config",
    "load_replaced",
]

_DEFAULT_PREFIX = "/etc/nginx"


@dataclass(frozen=True)
class MissingInclude:
    """An `include` of a file that is not there (a config copied without its snippets): what
    it would have set is unknown, so the check goes on and its verdict is partial."""

    file: str
    line: int
    pattern: str
    looked_in: tuple[str, ...]
    """The directories tried for a relative pattern (empty for an absolute one)."""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def reason(self) -> str:
        """`include X: not found (...)`, without the position."""
        if not self.looked_in:
            return f"include {self.pattern}: no such file"
        return f"include {self.pattern}: not found in {' or '.join(self.looked_in)}"


@dataclass(frozen=True)
class LoadedConfig:
    """A whole configuration as nginx would read it."""

    main_file: str
    files: tuple[str, ...]
    """Every file read, the main file first."""
    root: tuple[Directive, ...]
    """The top level of the main file (and of further PATHs given), includes spliced in."""
    origin: str = "files"
    """files | stdin | nginx -T | default file: where the text came from."""
    site_level: bool = False
    """True when the main file is a site file (servers at top level): the http{} level of the
    real nginx.conf was not seen, so "default" values may in fact be set there."""
    missing: tuple[MissingInclude, ...] = field(default=())
    """Includes of files that are not there, in the order met (each position once)."""

    @property
    def warnings(self) -> tuple[str, ...]:
        """The missing includes as one line each (for commands that show notes, not findings)."""
        return tuple(
            f"{m.where}: {m.reason}; what it would have set is unknown (not checked)"
            for m in self.missing
        )


def load_config(source_paths: Sequence[str] | None = None) -> LoadedConfig:
    """Load files, a directory, `["-"]` (an `nginx -T` dump on stdin) or, with None, the live
    config. Raises ConfigLoadError (cannot read) or ConfigParseError (does not parse)."""
    if source_paths is None:
        source_set = sources.live()
    elif not source_paths:
        raise ConfigLoadError("no config path given")
    else:
        source_set = sources.from_paths(source_paths)
    with cyclic_gc_paused():
        return _Loader(source_set).load()


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside. A big config is millions of acyclic objects, all
    alive until the end: the collector finds nothing in them, yet its full collections kept
    rescanning the growing tree (30 % of the load time on 15 MiB, and as much again in the
    check and the report). Refcounting frees everything anyway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_replaced(config: LoadedConfig, path: str, text: str) -> LoadedConfig:
    """`config` loaded again with `text` as the text of `path` (under every name it was read
    as, links followed), every other file read again through the same guards (fix verifies
    its candidate text with this before anything is written)."""
    real = os.path.realpath(path)
    texts = {name: text for name in config.files if os.path.realpath(name) == real}
    texts.setdefault(os.path.normpath(Path(path).absolute()), text)
    return _Loader(sources.SourceSet(entries=[config.main_file], texts=texts)).load()


MAX_INCLUDE_DEPTH = 50
"""Files including files this deep are refused (nginx has no limit; real configs use 2-3)."""


class _Loader:
    def __init__(self, source_set: sources.SourceSet) -> None:
        self.sources = source_set
        self.files: list[str] = []
        self.texts: dict[str, str] = {}
        self.expanded: dict[tuple[str, Context], _Expanded] = {}
        self.spliced = 0
        self.missing: dict[tuple[str, int, str], MissingInclude] = {}
        self.prefixes: list[str] = []

    def load(self) -> LoadedConfig:
        root: list[Directive] = []
        site_level = False
        for index, entry in enumerate(self.sources.entries):
            toks = lex(self._text(entry), entry)
            ctx = guess_context(toks)
            if index == 0:
                site_level = ctx != MAIN
            self.prefixes = _prefixes(entry, ctx, self.sources.origin)
            expanded = self._expand_file(entry, ctx, (), toks)
            del toks
            self._count(expanded.size, entry)
            root += expanded.block
        return LoadedConfig(
            main_file=self.sources.entries[0],
            files=tuple(self.files),
            root=tuple(root),
            origin=self.sources.origin,
            site_level=site_level,
            missing=tuple(self.missing.values()),
        )

    def _count(self, size: int, where: str) -> None:
        # A file included twice is spliced twice: the tree (and every walk of it below) grows
        # with the spliced size, not the bytes on disk, so that is what the cap bounds.
        self.spliced += size
        if self.spliced > sources.MAX_CONFIG_BYTES:
            raise _too_big(where)

    def _text(self, path: str) -> str:
        # the text, not its tokens, is kept: a token costs ~100 bytes, a character one
        if path not in self.texts:
            self.texts[path] = self.sources.read(path)
            self.files.append(path)
        return self.texts[path]

    def _expand_file(
        self,
        path: str,
        ctx: Context,
        stack: tuple[str, ...],
        toks: list[Token] | None = None,
        base: int = 0,
    ) -> _Expanded:
        """`path` spliced for context `ctx`; `base`: how deep the including blocks nest."""
        key = (path, ctx)
        done = self.expanded.get(key)
        if done is not None:
            return done
        text = self._text(path)
        if toks is None:
            toks = lex(text, path)
        parsed = parse_tokens(toks, path, ctx)
        has_include = any(t[0] == "include" and not t[2] for t in toks)
        del toks
        if not has_include:
            # nothing to splice: the parsed tree is final (the lexer bounded its depth)
            result = _Expanded(parsed, len(text), _depth(parsed))
        else:
            expander = _Expansion(self, (*stack, path), len(text), base)
            block, depth = expander.block(parsed, ctx)
            result = _Expanded(block, expander.size, depth)
        self.expanded[key] = result
        return result


@dataclass(frozen=True)
class _Expanded:
    """A file with its includes spliced in: the statements, their spliced size in bytes, and
    how deep its blocks nest."""

    block: tuple[Directive, ...]
    size: int
    depth: int


class _Expansion:
    """Splicing the includes of one file; sizes and depths come from the (memoized) included
    files, so a file included a million times over costs one parse and one addition each."""

    def __init__(self, loader: _Loader, stack: tuple[str, ...], size: int, base: int) -> None:
        self.loader = loader
        self.stack = stack
        self.size = size
        self.base = base
        """Blocks around the include of this file: the depth limit is checked on the way down
        (40 shallow files chained by includes must not recurse 1,200 levels first)."""

    def block(
        self, block: tuple[Directive, ...], ctx: Context, level: int = 0
    ) -> tuple[tuple[Directive, ...], int]:
        """The block (`level` blocks deep in its file) with includes spliced in, and how deep
        blocks nest inside it (0: none)."""
        out: list[Directive] = []
        depth = 0
        for stmt in block:
            if stmt.name == "include" and stmt.block is None and stmt.args:
                for target in self._resolve(stmt):
                    included = self._include(stmt, target, ctx, level)
                    out += included.block
                    depth = max(depth, included.depth)
            elif stmt.block is not None:
                if self.base + level + 1 > MAX_DEPTH:
                    raise _too_deep(stmt)
                inner, inner_depth = self.block(stmt.block, _enter(stmt.name, ctx), level + 1)
                out.append(Directive(stmt.name, stmt.args, stmt.file, stmt.line, inner))
                depth = max(depth, inner_depth + 1)
            else:
                out.append(stmt)
        return tuple(out), depth

    def _include(self, stmt: Directive, target: str, ctx: Context, level: int) -> _Expanded:
        if target in self.stack:
            chain = " -> ".join(Path(p).name for p in (*self.stack, target))
            raise ConfigParseError(f"include loop: {chain}", stmt.file, stmt.line)
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            raise ConfigParseError(
                f"includes nested more than {MAX_INCLUDE_DEPTH} files deep (versectl's limit)",
                stmt.file,
                stmt.line,
            )
        included = self.loader._expand_file(target, ctx, self.stack, base=self.base + level)
        if self.base + level + included.depth > MAX_DEPTH:  # a file expanded before, or flat
            raise _too_deep(stmt)
        self.size += included.size
        if self.size > sources.MAX_CONFIG_BYTES:  # this file alone, before the total
            raise _too_big(stmt.where)
        return included

    def _resolve(self, stmt: Directive) -> list[str]:
        loader = self.loader
        pattern = stmt.args[0]
        candidates = (
            [pattern]
            if Path(pattern).is_absolute()
            else [str(Path(prefix) / pattern) for prefix in loader.prefixes]
        )
        magic = _glob.has_magic(pattern)
        for candidate in candidates:
            if magic:
                found = loader.sources.glob(candidate)
                if found:
                    return found
            elif loader.sources.exists(candidate):
                return [candidate]
        if magic:
            return []  # nginx accepts a glob that matches nothing
        if loader.sources.origin in ("stdin", "nginx -T"):
            # nginx -T refuses a config with a missing include, and dumps every file it read
            raise ConfigParseError(
                f"include {pattern}: not in the nginx -T dump (the dump is cut or edited)",
                stmt.file,
                stmt.line,
            )
        # Not there is not unreadable (that raised above): a config copied without its
        # snippets (certbot's options-ssl-nginx.conf, mime.types) is still worth checking
        looked = () if Path(pattern).is_absolute() else tuple(loader.prefixes)
        key = (stmt.file, stmt.line, pattern)
        loader.missing.setdefault(key, MissingInclude(stmt.file, stmt.line, pattern, looked))
        return []


def _too_deep(stmt: Directive) -> ConfigParseError:
    return ConfigParseError(
        f"with its includes spliced in, blocks nest more than {MAX_DEPTH} deep here "
        "(versectl's limit; real configs nest under 10)",
        stmt.file,
        stmt.line,
    )


def _too_big(where: str) -> ConfigLoadError:
    return ConfigLoadError(
        f"{where}: with its includes spliced in, the config is over "
        f"{sources.MAX_CONFIG_BYTES // 1024 // 1024} MiB (files included many times over?); "
        "versectl checks configs up to that size"
    )


def _depth(block: tuple[Directive, ...]) -> int:
    """How deep blocks nest in `block` (0: none), without recursion."""
    deepest = 0
    todo = [(stmt, 1) for stmt in block if stmt.block is not None]
    while todo:
        stmt, level = todo.pop()
        deepest = max(deepest, level)
        todo += [(child, level + 1) for child in stmt.block or () if child.block is not None]
    return deepest


def _enter(name: str, ctx: Context) -> Context:
    # crossplane's rule: nested locations keep the context ("http", "location")
    if ctx and ctx[0] == "http" and name == "location":
        return ("http", "location")
    return (*ctx, name)


def _prefixes(entry: str, ctx: Context, origin: str) -> list[str]:
    """Directories relative includes are resolved against. nginx uses its conf prefix (the
    main file's directory); for a site file read on its own that prefix is a guess."""
    here = Path(entry).parent
    if ctx == MAIN or origin in ("stdin", "nginx -T"):
        return [str(here)]
    guesses = [str(here)]
    for parent in here.parents:
        if (parent / "nginx.conf").is_file():
            guesses.append(str(parent))
            break
    if _DEFAULT_PREFIX not in guesses:
        guesses.append(_DEFAULT_PREFIX)
    return guesses
