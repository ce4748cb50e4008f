"""The server block a URL's request reaches: its host (Host and SNI), its port and the address it
connects to (an IP in the URL, or curl-style --resolve), on listeners that speak its scheme."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from versectl.nginx.check import CheckResult
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import ListenerModel, servers
from versectl.nginx.model.listeners import Listener
from versectl.nginx.model.select import server_names
from versectl.nginx.model.server_select import listeners_for, normalize_host


@dataclass(frozen=True)
class UrlReach:
    """What `check nginx` is told (--host, --port, listeners of the scheme) for one URL."""

    host: str
    """The Host / SNI nginx compares with server_name (an IPv6 literal in brackets)."""
    port: tuple[str | None, int] | None
    """(address or None, port) as --port; None when no listener of the config has that port."""
    tls: bool
    request: str
    """`chat.example:443`: how reports name the request."""
    notes: tuple[str, ...] = ()


def url_reach(
    config: LoadedConfig,
    scheme: str,
    host: str,
    port: int | None,
    resolve: Sequence[tuple[str, int, str]] = (),
) -> UrlReach:
    """Where a request for `scheme://host:port` lands. A port no server listens on (docker
    publishing 8443 for nginx's 443, a proxy in front) falls back to every listener of the
    scheme: the Host still picks the server there, and a note says so."""
    tls = scheme == "https"
    port = port if port is not None else (443 if tls else 80)
    name = f"[{host}]" if ":" in host else host
    name = normalize_host(name)
    address = _address(name, port, resolve)
    request = f"{name}:{port}"
    model = ListenerModel(servers(config))
    found = listeners_for(model, port, address)
    notes: list[str] = []
    kind = "TLS" if tls else "plain HTTP"
    if not found:
        notes.append(
            f"no server of this config listens on port {port} (a port published by docker, "
            f"or a proxy in front?): judged the server Host {name} reaches on each {kind} "
            "listener instead"
        )
        return UrlReach(name, None, tls, request, tuple(notes))
    if not any(_speaks(x, tls) for x in found):
        where = ", ".join(x.text for x in found)
        notes.append(
            f"{where} does not speak {kind}, but the URL is {scheme}://: nginx cannot answer "
            f"this request there ({'use http://' if tls else 'use https://'})"
        )
    return UrlReach(name, (address, port), tls, request, tuple(notes))


def _speaks(listener: Listener, tls: bool) -> bool:
    return listener.ssl == tls


def _address(name: str, port: int, resolve: Sequence[tuple[str, int, str]]) -> str | None:
    """The address connected to, as listeners name it; None: a name resolved by DNS."""
    for host, resolved_port, address in resolve:
        if host == name and resolved_port == port:
            return f"[{address}]" if ":" in address else address
    if name.startswith("[") or name.replace(".", "").isdigit():
        return name
    return None


def reached(result: CheckResult, reach: UrlReach) -> list[str]:
    """`the request for chat.example:443 reaches server chat.example (server_name chat.example)
    in sites-enabled/chat:3`, one line per listener it may arrive on, then the notes."""
    lines = []
    for choice in result.selection or ():
        names = " ".join(n or '""' for n in server_names(choice.server)) or '""'
        lines.append(
            f"the request for {reach.request} reaches server {names} ({choice.reason}) in "
            f"{_shown(choice.server.file)}:{choice.server.line}"
            + (f", on {choice.listener.text}" if reach.port is None else "")
        )
    return [*lines, *reach.notes]


def _shown(path: str) -> str:
    """`sites-enabled/chat`: the file and its directory, which tell sites apart."""
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else path
