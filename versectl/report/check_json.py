"""The JSON document of `check nginx` (CONTRACT.md), built from the check's result: the domain
objects carry no JSON of their own, so the document's shape lives here only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from versectl.nginx.check import CheckResult
from versectl.nginx.finding import Finding
from versectl.nginx.model import Target
from versectl.nginx.model.listeners import ServerListeners
from versectl.nginx.model.select import server_names
from versectl.nginx.rules import family_of
from versectl.nginx.rules.base import CheckedLocation

if TYPE_CHECKING:
    from versectl.nginx.model.server_select import ServerChoice

JSON_VERSION = 1


def check_json(result: CheckResult) -> dict[str, object]:
    """The whole document."""
    app = result.backend.app
    return {
        "version": JSON_VERSION,
        **({"app": app} if app not in (None, "verse") else {}),
        "files": list(result.files),
        "backend_port": result.backend.port,
        "backend_port_source": result.backend.source,
        "locations": [location_json(loc) for loc in result.locations],
        "findings": [finding_json(f) for f in result.findings],
        "summary": result.summary(),
        "partial": bool(result.partial_reasons),
        "partial_reasons": list(result.partial_reasons),
        "servers": [server_json(loc, counts) for loc, counts in result.per_server()],
        "selection": (
            None if result.selection is None else [choice_json(c) for c in result.selection]
        ),
    }


def finding_json(found: Finding) -> dict[str, object]:
    """The CONTRACT's finding object, plus `clients` and the rule's `family`."""
    family = family_of(found.rule)
    return {
        "rule": found.rule,
        "severity": found.severity.value,
        "file": found.file,
        "line": found.line,
        "message": found.message,
        "fix": found.fix,
        "clients": [c.value for c in found.clients],
        "family": family.value if family is not None else None,
    }


def server_json(loc: CheckedLocation, counts: dict[str, int]) -> dict[str, object]:
    """A judged server: where it is, its listeners, who reaches it, its own summary."""
    server = loc.match.server
    return {
        "file": server.file,
        "line": server.line,
        "server_names": list(loc.match.server_names),
        "listeners": listeners_json(loc.listeners),
        "clients": [c.value for c in loc.clients],
        "summary": counts,
    }


def location_json(loc: CheckedLocation) -> dict[str, object]:
    match = loc.match
    handler = loc.settings.handler()
    location = match.location
    return {
        "file": loc.file,
        "line": loc.line,
        "server_names": list(match.server_names),
        "listen": list(match.listen),
        "match": " ".join(location.args) if location is not None else None,
        "uris": list(loc.uris),
        "proxy_pass": handler.value if handler is not None else None,
        "targets": [target_json(t) for t in loc.targets],
        "listeners": listeners_json(loc.listeners),
        "clients": [c.value for c in loc.clients],
        "ssl_buffer_size": loc.listeners.ssl_buffer_size.value if loc.listeners.tls else None,
    }


def target_json(target: Target) -> dict[str, object]:
    doc: dict[str, object] = {"host": target.host, "port": target.port}
    if target.unix is not None:
        doc["unix"] = target.unix
    if target.upstream is not None:
        doc["upstream"] = target.upstream
    if target.unresolved is not None:
        doc["unresolved"] = target.unresolved
    return doc


def listeners_json(listeners: ServerListeners) -> list[dict[str, object]]:
    """The `listeners` of a location: one object per address:port of its server."""
    return [
        {
            "address": listener.address,
            "port": listener.port,
            "ssl": listener.ssl,
            "http2": listeners.speaks_h2(listener) or listener.http2,
            "default_server": listeners.is_default(listener),
        }
        for listener in listeners.listeners
    ]


def choice_json(choice: ServerChoice) -> dict[str, object]:
    """A server a --host/--port request reaches, and why."""
    return {
        "file": choice.server.file,
        "line": choice.server.line,
        "server_names": list(server_names(choice.server)),
        "listen": choice.listener.text,
        "reason": choice.reason,
    }
