"""Which blocks of which file to fix: the locations nginx selects for the chat URIs, via check's model.

A selected location other than the catch-all `/` is rewritten. A server where only `/` (or
nothing) serves the chat gets a new /api block, unless another server of the config already
has one (that server is the app; the others are other sites). Servers of different names are
never fixed together unless asked (`--server-name`), and redirect-only servers are left alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from versectl.errors import FixError
from versectl.fix.plan import FixTarget
from versectl.nginx.directive import Directive
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import LocationMatch, location_pattern, select_locations


@dataclass(frozen=True, slots=True)
class FileTargets:
    """The file to edit and the targets in it."""

    path: str
    targets: list[FixTarget]
    matches: list[LocationMatch]


def _real(path: str) -> str:
    return os.path.realpath(path)


def _is_catch_all(location: Directive | None) -> bool:
    if location is None:
        return True
    pattern = location_pattern(location)
    return pattern.modifier in ("", "^~") and pattern.pattern == "/"


def _redirects_everything(server: Directive) -> bool:
    return any(True for _ in server.children("return"))


def find_targets(
    config: LoadedConfig, path: str | None, uris: Sequence[str], server_name: str | None
) -> FileTargets:
    """The blocks to fix for `uris`; in `path` when given, else in the file holding them."""
    matches = [
        m
        for m in select_locations(config, list(uris), server_name)
        if not _redirects_everything(m.server)
    ]
    if not matches:
        which = f" named {server_name}" if server_name else ""
        raise FixError(f"no server{which} in the config serves {', '.join(uris)}")
    rewrites = [m for m in matches if not _is_catch_all(m.location)]
    if rewrites:
        app_names = {m.server_names for m in rewrites}
        chosen = [m for m in matches if m.server_names in app_names]
    else:
        chosen = matches
    names = sorted({" ".join(m.server_names) or '""' for m in chosen})
    if len(names) > 1 and server_name is None:
        listing = "; ".join(
            f"{' '.join(m.server_names) or '(no name)'} ({m.server.where})"
            for m in _unique_servers(chosen)
        )
        raise FixError(f"several servers would get the fix: {listing}. Name one with --server-name")
    path = path if path is not None else _file_of(chosen)
    # one target per block, with the URIs that reach it
    by_block: dict[tuple[str, int, tuple[str, ...] | None], list[str]] = {}
    in_file: list[LocationMatch] = []
    for match in chosen:
        location = match.location
        if location is not None and not _is_catch_all(location):
            if _real(location.file) != _real(path):
                continue
            key: tuple[str, int, tuple[str, ...] | None] = ("rewrite", location.line, location.args)
        elif _real(match.server.file) == _real(path):
            key = ("insert", match.server.line, None)
        else:
            continue
        by_block.setdefault(key, []).append(match.uri)
        in_file.append(match)
    targets = [
        FixTarget(
            "rewrite" if kind == "rewrite" else "insert", line, tuple(dict.fromkeys(found)), args
        )
        for (kind, line, args), found in by_block.items()
    ]
    if not targets:
        where = ", ".join(sorted({_where(m) for m in chosen}))
        raise FixError(f"{path} holds none of the blocks that serve {', '.join(uris)} ({where})")
    return FileTargets(path, targets, in_file)


def _where(match: LocationMatch) -> str:
    if match.location is not None and not _is_catch_all(match.location):
        return match.location.where
    return match.server.where


def _file_of(matches: list[LocationMatch]) -> str:
    files = sorted(
        {
            m.location.file
            if m.location is not None and not _is_catch_all(m.location)
            else m.server.file
            for m in matches
        }
    )
    if len(files) > 1:
        raise FixError(
            f"the blocks to fix are in several files ({', '.join(files)}); name one as PATH"
        )
    return files[0]


def _unique_servers(matches: list[LocationMatch]) -> list[LocationMatch]:
    seen: dict[tuple[str, int], LocationMatch] = {}
    for match in matches:
        seen.setdefault((match.server.file, match.server.line), match)
    return list(seen.values())
