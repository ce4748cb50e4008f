"""Load an nginx configuration: read the sources, parse each file, and splice `include`d files
in place (globs resolved like nginx), so one tree holds the whole config with exact positions."""

from __future__ import annotations

import glob as _glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from versectl.errors import ConfigLoadError, ConfigParseError
from versectl.nginx import sources
from versectl.nginx.directive import Directive
from versectl.nginx.lexer import Token
from versectl.nginx.parse import MAIN, Context, guess_context, lex, parse_tokens

__all__ = ["ConfigLoadError", "ConfigParseError", "Directive", "LoadedConfig", "load_config"]

_DEFAULT_PREFIX = "/etc/nginx"


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
    warnings: tuple[str, ...] = field(default=())
    """Things the user should know that do not stop the check (an include not found)."""


def load_config(source_paths: Sequence[str] | None = None) -> LoadedConfig:
    """Load files, a directory, `["-"]` (an `nginx -T` dump on stdin) or, with None, the live
    config. Raises ConfigLoadError (cannot read) or ConfigParseError (does not parse)."""
    if source_paths is None:
        source_set = sources.live()
    elif not source_paths:
        raise ConfigLoadError("no config path given")
    else:
        source_set = sources.from_paths(source_paths)
    return _Loader(source_set).load()


class _Loader:
    def __init__(self, source_set: sources.SourceSet) -> None:
        self.sources = source_set
        self.files: list[str] = []
        self.tokens: dict[str, list[Token]] = {}
        self.parsed: dict[tuple[str, Context], tuple[Directive, ...]] = {}
        self.expanded: dict[tuple[str, Context], tuple[Directive, ...]] = {}
        self.warnings: list[str] = []
        self.prefixes: list[str] = []

    def load(self) -> LoadedConfig:
        root: list[Directive] = []
        site_level = False
        for index, entry in enumerate(self.sources.entries):
            ctx = guess_context(self._tokens(entry))
            if index == 0:
                site_level = ctx != MAIN
            self.prefixes = _prefixes(entry, ctx, self.sources.origin)
            root += self._expand_file(entry, ctx, ())
        return LoadedConfig(
            main_file=self.sources.entries[0],
            files=tuple(self.files),
            root=tuple(root),
            origin=self.sources.origin,
            site_level=site_level,
            warnings=tuple(self.warnings),
        )

    def _tokens(self, path: str) -> list[Token]:
        if path not in self.tokens:
            self.tokens[path] = lex(self.sources.read(path), path)
            self.files.append(path)
        return self.tokens[path]

    def _expand_file(
        self, path: str, ctx: Context, stack: tuple[str, ...]
    ) -> tuple[Directive, ...]:
        key = (path, ctx)
        if key in self.expanded:
            return self.expanded[key]
        if key not in self.parsed:
            self.parsed[key] = parse_tokens(self._tokens(path), path, ctx)
        if not any(t == "include" and not q for t, _line, q in self._tokens(path)):
            result = self.parsed[key]  # nothing to splice: the parsed tree is final
        else:
            result = self._expand_block(self.parsed[key], ctx, (*stack, path))
        self.expanded[key] = result
        return result

    def _expand_block(
        self, block: tuple[Directive, ...], ctx: Context, stack: tuple[str, ...]
    ) -> tuple[Directive, ...]:
        out: list[Directive] = []
        for stmt in block:
            if stmt.name == "include" and stmt.block is None and stmt.args:
                for target in self._resolve(stmt):
                    if target in stack:
                        chain = " -> ".join(Path(p).name for p in (*stack, target))
                        raise ConfigParseError(f"include loop: {chain}", stmt.file, stmt.line)
                    out += self._expand_file(target, ctx, stack)
            elif stmt.block is not None:
                inner = _enter(stmt.name, ctx)
                out.append(
                    Directive(
                        stmt.name,
                        stmt.args,
                        stmt.file,
                        stmt.line,
                        self._expand_block(stmt.block, inner, stack),
                    )
                )
            else:
                out.append(stmt)
        return tuple(out)

    def _resolve(self, stmt: Directive) -> list[str]:
        pattern = stmt.args[0]
        candidates = (
            [pattern]
            if Path(pattern).is_absolute()
            else [str(Path(prefix) / pattern) for prefix in self.prefixes]
        )
        magic = _glob.has_magic(pattern)
        for candidate in candidates:
            if magic:
                found = self.sources.glob(candidate)
                if found:
                    return found
            elif self.sources.exists(candidate):
                return [candidate]
        if magic:
            return []  # nginx accepts a glob that matches nothing
        if len(candidates) > 1:  # a site file read on its own: the real prefix is unknown
            self.warnings.append(
                f"{stmt.where}: include {pattern}: not found next to the file or in "
                f"{_DEFAULT_PREFIX}; its directives are not checked"
            )
            return []
        raise ConfigParseError(
            f'open() "{candidates[0]}" failed (no such file)', stmt.file, stmt.line
        )


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
