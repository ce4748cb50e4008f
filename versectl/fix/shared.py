"""A block written once and included by several servers: fixing it changes all of them."""

from __future__ import annotations

import os
from collections.abc import Iterator

from versectl.fix.plan import FixTarget
from versectl.nginx.directive import Directive
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import servers


def _locations(block: Directive) -> Iterator[Directive]:
    for child in block.block or ():
        if child.name == "location":
            yield child
            yield from _locations(child)


def _label(server: Directive) -> str:
    names = next((d.args for d in server.children("server_name")), ())
    return f"{' '.join(names) or '(no server_name)'} ({server.where})"


def sharing_servers(config: LoadedConfig, path: str, target: FixTarget) -> list[str]:
    """The servers whose config holds the location `target` rewrites (as "names (file:line)"):
    more than one when the file is a snippet several servers include."""
    if target.kind != "rewrite":
        return []
    real = os.path.realpath(path)
    found: dict[tuple[str, int], str] = {}
    for _http, server in servers(config):
        for location in _locations(server):
            if location.line == target.line and os.path.realpath(location.file) == real:
                found.setdefault((server.file, server.line), _label(server))
    return list(found.values())
