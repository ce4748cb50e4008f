"""An app served under a subpath (`location /chatgpt/api { ... }` for Open WebUI's
/api/chat/completions): when none of the app's URIs reaches a location but they do under one
of the config's prefixes, that prefix is where the app lives."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import LocationMatch, servers
from versectl.nginx.model.select import location_pattern

Select = Callable[[tuple[str, ...]], list[LocationMatch]]


def app_prefix(config: LoadedConfig, uris: Sequence[str], select: Select) -> str | None:
    """The config's location prefix under which every one of `uris` reaches a proxying
    location other than a catch-all `/`; None when the URIs already reach one, or none fits."""
    if any(_served(m) for m in select(tuple(uris))):
        return None
    prefixes: set[str] = set()
    for _http, server in servers(config):
        for location in server.children("location"):
            pattern = location_pattern(location)
            path = pattern.pattern.rstrip("/")
            if pattern.modifier in ("", "^~") and path.startswith("/") and path.count("/") == 1:
                prefixes.add(path)
    for prefix in sorted(prefixes):
        found = select(tuple(prefix + uri for uri in uris))
        if found and all(_served(m) for m in found):
            return prefix
    return None


def _served(match: LocationMatch) -> bool:
    location = match.location
    return location is not None and tuple(location.args) != ("/",)
