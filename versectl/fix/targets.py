"""Which blocks of which file to fix: the locations nginx selects for the chat URIs, via check's model.

A selected location other than the catch-all `/` is rewritten. A server where only `/` (or
nothing) serves the chat gets a new /api block, unless another server of the config already
has one (that server is the app; the others are other sites). Servers of different names are
never fixed together unless asked (`--server-name`), and servers that redirect (to https) are
left alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from versectl.errors import FixError
from versectl.fix.plan import FixTarget
from versectl.nginx.directive import Directive
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import (
    Effective,
    ListenerModel,
    LocationMatch,
    location_pattern,
    select_locations,
    servers,
)
from versectl.nginx.model.redirect import nginx_answer
from versectl.nginx.model.server_select import reached_servers
from versectl.nginx.model.variables import literal_sets


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


_SETTINGS = ("proxy_http_version", "proxy_buffering", "proxy_cache", "gzip", "proxy_read_timeout")
"""What merge judges by the inherited value (see versectl/fix/merge.py)."""


def _inherited(match: LocationMatch, *, new_block: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """What the block to fix inherits: from the levels around the selected location, or, for
    a new block, from the server it goes into."""
    chain = match.chain
    if new_block:
        cut = max(i for i, block in enumerate(chain) if block.name == "server") + 1
    else:
        cut = len(chain) - 1 if chain and chain[-1].name == "location" else len(chain)
    outer = Effective(chain[:cut])
    return tuple((name, outer[name].args) for name in _SETTINGS)


def find_targets(
    config: LoadedConfig,
    path: str | None,
    uris: Sequence[str],
    server_name: str | None,
    *,
    host: str | None = None,
    port: tuple[str | None, int] | None = None,
) -> FileTargets:
    """The blocks to fix for `uris`; in `path` when given, else in the file holding them.
    `host`/`port` (--host, --port): only the server(s) that request reaches, as check picks."""
    only = None
    if host is not None or port is not None:
        reached = reached_servers(ListenerModel(servers(config)), host, port)
        only = [choice.server for choice in reached]
    # a server that redirects (to https, usually) is left alone: a new location there would
    # serve the API over plain HTTP
    matches = [
        m
        for m in select_locations(config, list(uris), server_name, only)
        if nginx_answer(m) is None
    ]
    if not matches:
        which = f" named {server_name}" if server_name else ""
        which += f" that Host {host} reaches" if host is not None else ""
        raise FixError(f"no server{which} in the config serves {', '.join(uris)}")
    rewrites = [m for m in matches if not _is_catch_all(m.location)]
    if rewrites:
        app_names = {m.server_names for m in rewrites}
        chosen = [m for m in matches if m.server_names in app_names]
    else:
        chosen = matches
    names = sorted({" ".join(m.server_names) or '""' for m in chosen})
    # with --host/--port every server chosen is one that request reaches: fix each of them
    if len(names) > 1 and server_name is None and only is None:
        listing = "; ".join(
            f"{' '.join(m.server_names) or '(no name)'} ({m.server.where})"
            for m in _unique_servers(chosen)
        )
        raise FixError(f"several servers would get the fix: {listing}. Name one with --server-name")
    path = path if path is not None else _file_of(chosen)
    # one target per block, with the URIs that reach it
    by_block: dict[tuple[str, int, tuple[str, ...] | None], list[str]] = {}
    first: dict[tuple[str, int, tuple[str, ...] | None], LocationMatch] = {}
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
        first.setdefault(key, match)
        in_file.append(match)
    targets = [
        _target(kind, line, tuple(dict.fromkeys(found)), args, first[(kind, line, args)], path)
        for (kind, line, args), found in by_block.items()
    ]
    if not targets:
        where = ", ".join(sorted({_where(m) for m in chosen}))
        raise FixError(f"{path} holds none of the blocks that serve {', '.join(uris)} ({where})")
    return FileTargets(path, targets, in_file)


def _target(
    kind: str,
    line: int,
    uris: tuple[str, ...],
    args: tuple[str, ...] | None,
    match: LocationMatch,
    path: str,
) -> FixTarget:
    if kind == "rewrite":
        inherited = _inherited(match, new_block=False)
        variables = tuple(literal_sets(match.chain).items())
        return FixTarget("rewrite", line, uris, args, inherited, variables=variables)
    source = outside = None
    catch_all = match.location
    if catch_all is not None and _real(catch_all.file) == _real(path):
        source = (catch_all.line, catch_all.args)
    elif catch_all is not None:  # written in a snippet the server includes
        simple = tuple((d.name, d.args) for d in catch_all.block or () if d.block is None)
        outside = (catch_all.where, " ".join(catch_all.args), simple)
    inherited = _inherited(match, new_block=True)
    return FixTarget("insert", line, uris, None, inherited, source, outside)


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
