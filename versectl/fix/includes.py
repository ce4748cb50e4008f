"""`include` as nginx resolves it: relative to the main config's directory, globs sorted, dotfiles skipped."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from versectl.errors import ConfigLoadError, ConfigParseError, FixError
from versectl.fix.merge import IncludedStatement, IncludeReader
from versectl.fix.syntax import Statement, parse, statements, walk
from versectl.nginx.sources import include_glob, read_config_file

_GLOB_CHARS = frozenset("*?[")
MAX_DEPTH = 32
"""Deeper include chains are a loop (nginx itself would recurse until it runs out of files)."""


def read_config_text(path: Path) -> str:
    """A config file's text through check's guarded reader (regular files only, size cap,
    binary refused); every byte round-trips (surrogateescape), since fix writes it back."""
    text = read_config_file(str(path))
    if "\ufffd" not in text:
        return text  # valid UTF-8 (or ASCII): the decoded text is the bytes
    try:  # a stray non-UTF-8 byte: the guard let it through; keep it as it is
        return path.read_bytes().decode("utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ConfigLoadError(f"{path}: cannot read ({exc.strerror})") from None


def resolve_pattern(pattern: str, conf_dir: Path) -> str:
    """An include argument as an absolute pattern: nginx joins relative ones to the conf prefix,
    the directory of the main config (not the directory of the including file)."""
    return pattern if Path(pattern).is_absolute() else str(conf_dir / pattern)


def expand(pattern: str, conf_dir: Path) -> list[Path]:
    """The files an include loads, in nginx's order (check's include_glob: glob(3) as nginx
    calls it). A plain name is returned even when missing (nginx -t says so)."""
    absolute = resolve_pattern(pattern, conf_dir)
    if not _GLOB_CHARS & set(absolute):
        return [Path(absolute)]
    # check's glob: an unreadable directory on the way is an error, not an empty match
    return [Path(found) for found in include_glob(absolute)]


def glob_would_match(pattern: str, conf_dir: Path, path: Path) -> bool:
    """Whether the include `pattern` would load `path` if it existed (component by component,
    like glob(3): `*` never crosses a `/` and matches a leading dot only when spelled)."""
    absolute = resolve_pattern(pattern, conf_dir)
    if not _GLOB_CHARS & set(absolute):
        return os.path.normpath(absolute) == os.path.normpath(path)
    wanted = Path(os.path.normpath(absolute)).parts
    parts = Path(os.path.normpath(path)).parts
    if len(wanted) != len(parts):
        return False
    for want, part in zip(wanted, parts, strict=True):
        if part.startswith(".") and not want.startswith("."):
            return False
        if not fnmatch.fnmatchcase(part, want):
            return False
    return True


@dataclass(frozen=True, slots=True)
class Include:
    """One `include` statement and the files it loads."""

    file: Path
    statement: Statement
    pattern: str
    matches: list[Path]


def includes(main: Path, conf_dir: Path | None = None) -> Iterator[Include]:
    """Every include of the config tree rooted at `main`, depth first; FixError on a loop."""
    yield from _includes(main, conf_dir or main.parent, ())


def _includes(file: Path, conf_dir: Path, chain: tuple[str, ...]) -> Iterator[Include]:
    real = os.path.realpath(file)
    if real in chain or len(chain) >= MAX_DEPTH:
        raise FixError(f"{file}: include loop ({' -> '.join(chain)} -> {real})")
    text = read_config_text(file)
    for statement, _parents in walk(parse(text, str(file))):
        if statement.name != "include" or len(statement.args) != 1:
            continue
        matches = expand(statement.args[0], conf_dir)
        yield Include(file, statement, statement.args[0], matches)
        for match in matches:
            if match.is_file():
                yield from _includes(match, conf_dir, (*chain, real))
            elif match.exists() and not match.is_dir():
                # nginx -t would block opening a FIFO, or read a device forever
                raise ConfigLoadError(
                    f"{file}:{statement.line}: include {statement.args[0]} loads {match}: "
                    "not a regular file"
                )


def includes_file(main: Path, target: Path, conf_dir: Path | None = None) -> bool:
    """Whether the config tree rooted at `main` loads `target` (or `main` is `target`)."""
    real = os.path.realpath(target)
    if os.path.realpath(main) == real:
        return True
    try:
        return any(
            os.path.realpath(match) == real
            for include in includes(main, conf_dir)
            for match in include.matches
        )
    except (ConfigParseError, FixError):
        return False


def include_reader(conf_dir: Path) -> IncludeReader:
    """For merge: the statements an include pattern's files put into the including block
    (includes inside them followed, as nginx splices them); None when a file does not parse."""

    def read(pattern: str, depth: int = 0) -> list[IncludedStatement] | None:
        if depth >= MAX_DEPTH:
            raise FixError(f"include {pattern}: nested more than {MAX_DEPTH} deep (a loop?)")
        found: list[IncludedStatement] = []
        try:
            for path in expand(pattern, conf_dir):
                for statement in statements(parse(read_config_text(path), str(path))):
                    if statement.name == "include" and len(statement.args) == 1:
                        inner = read(statement.args[0], depth + 1)
                        if inner is None:
                            return None
                        found += inner
                    else:
                        found.append(
                            IncludedStatement(
                                str(path), statement.line, statement.name, tuple(statement.args)
                            )
                        )
        except ConfigParseError:
            return None
        return found

    return read
