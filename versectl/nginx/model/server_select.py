"""Which server block nginx picks for a request (ngx_http_find_virtual_server): the listener of
the address:port, then the Host (or SNI) against the server_names of the servers there -
exact, longest `*.x`/`.x`, longest `x.*`, regexes in config order - else the default server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from versectl.errors import ConfigParseError, InputError
from versectl.nginx.directive import Directive
from versectl.nginx.model.listeners import WILDCARD, Listener, ListenerModel, parse_address
from versectl.nginx.model.pcre import compile_regex, regex_search
from versectl.nginx.model.select import server_names

if TYPE_CHECKING:
    import regex


@dataclass(frozen=True)
class ServerChoice:
    """The server a request reaches on one listener, and why."""

    server: Directive
    listener: Listener
    reason: str
    """`server_name *.example.org`, `default_server of *:443 (...)`, `the only server on *:80`."""


def normalize_host(host: str) -> str:
    """A Host / SNI name as nginx compares it (ngx_http_validate_host: lower case, no trailing
    dot, no port); InputError for what nginx would answer 400 to."""
    name = host.strip().lower()
    if len(name) > 260:  # a DNS name has at most 253 characters (+ ":port")
        raise InputError(f"--host: {len(name)} characters is not a host name")
    if name.startswith("["):
        end = name.find("]")
        if end < 0:
            raise InputError(f"--host {host!r}: not a host name")
        name = name[: end + 1]
    else:
        name = name.partition(":")[0]
    name = name.rstrip(".") if name != "." else ""
    if not name or ".." in name or any(ch in name for ch in "/\\ \t\"'{};$"):
        raise InputError(f"--host {host!r}: not a host name")
    return name


def parse_port(text: str) -> tuple[str | None, int]:
    """`--port 443` -> (None, 443); `--port 127.0.0.1:443`, `[::1]:443` -> (address, port)."""
    usage = InputError(f"--port {text!r}: a port (1-65535) or ADDRESS:PORT")
    text = text.strip()
    has_port = "]:" in text if text.startswith("[") else ":" in text
    if not (text.isdigit() or has_port) or text.lower().startswith("unix:"):
        raise usage
    try:
        address, port = parse_address(text)
    except ConfigParseError:
        raise usage from None
    if port is None:
        raise usage
    return (None if text.isdigit() else address), port


def listeners_for(model: ListenerModel, port: int | None, address: str | None) -> list[Listener]:
    """The listeners a connection to `address:port` lands on: that exact address if some server
    listens there, else the port's wildcard; without an address, the wildcard listener (else
    each address of that port); without a port, every listener."""
    found = [x for x in model.listeners if port is None or x.port == port]
    if address is not None:
        exact = [x for x in found if x.address == address]
        if exact:
            return exact
        family_wildcard = "[::]" if address.startswith("[") else WILDCARD
        return [x for x in found if x.address == family_wildcard]
    if port is not None:
        wildcard = [x for x in found if x.address in (WILDCARD, "[::]")]
        return wildcard[:1] or found
    return found


def reached_servers(
    model: ListenerModel,
    host: str | None,
    port: tuple[str | None, int] | None,
    tls: bool | None = None,
) -> tuple[ServerChoice, ...]:
    """The servers a request for `host` (None: without Host) on `port` ((address, port) as
    parse_port gives; None: any port) reaches, one per listener it may arrive on, each server
    once. `tls`: only listeners that speak TLS (True) or not (False), where any does.
    InputError when no server listens on that port. check, doctor and fix all choose here."""
    address, number = port if port is not None else (None, None)
    listeners = listeners_for(model, number, address)
    if not listeners:
        where = f"{address}:{number}" if address else str(number)
        raise InputError(f"--port {where}: no server listens there")
    if tls is not None:
        listeners = [x for x in listeners if x.ssl == tls] or listeners
    name = normalize_host(host) if host is not None else None
    choices = [select_server(listener, name) for listener in listeners]
    return tuple({id(c.server): c for c in reversed(choices)}.values())[::-1]


def select_server(listener: Listener, host: str | None) -> ServerChoice:
    """The server of `listener` that answers Host `host` (None: a request without Host, which
    nginx looks up as the empty name)."""
    name = "" if host is None else host
    servers = listener.servers
    if len(servers) == 1:
        return ServerChoice(servers[0], listener, f"the only server on {listener.text}")
    names = _virtual_names(servers)
    found = names.find(name)
    if found is not None:
        server, pattern = found
        shown = f'server_name "{pattern}"' if pattern in ("", '""') else f"server_name {pattern}"
        return ServerChoice(server, listener, shown + ("" if name else " (a request without Host)"))
    why = "default_server" if listener.explicit_default else "first server"
    nothing = f"no server_name matches {name}" if name else "no Host"
    return ServerChoice(listener.default_server, listener, f"{why} of {listener.text} ({nothing})")


@dataclass
class _VirtualNames:
    """One address:port's names as ngx_http_server_names hashes them: a later name that
    conflicts with an earlier one is ignored ("conflicting server name"), as nginx does."""

    exact: dict[str, tuple[Directive, str]] = field(default_factory=dict)
    head: dict[str, tuple[Directive, str, bool]] = field(default_factory=dict)
    """`x` -> (server, `*.x` or `.x`, whether `x` itself matches: the `.x` form)."""
    tail: dict[str, tuple[Directive, str]] = field(default_factory=dict)
    regex: list[tuple[regex.Pattern[str], Directive, str]] = field(default_factory=list)

    def find(self, name: str) -> tuple[Directive, str] | None:
        """ngx_hash_find_combined (exact, longest head, longest tail), then the regexes."""
        if name in self.exact:
            return self.exact[name]
        if not name:
            return None
        labels = name.split(".")
        for start in range(len(labels)):  # longest suffix first
            entry = self.head.get(".".join(labels[start:]))
            if entry is not None and (start > 0 or entry[2]):
                return entry[0], entry[1]
        for end in range(len(labels) - 1, 0, -1):  # longest prefix first
            found = self.tail.get(".".join(labels[:end]))
            if found is not None:
                return found
        for compiled, server, pattern in self.regex:
            if regex_search(compiled, name, server):
                return server, pattern
        return None


def _virtual_names(servers: tuple[Directive, ...]) -> _VirtualNames:
    names = _VirtualNames()
    exact_keys: set[str] = set()  # nginx's keys_hash: `.x` also claims `x` here
    for server in servers:
        for pattern in server_names(server):
            if pattern.startswith("~"):
                compiled = compile_regex(pattern[1:], any(c.isupper() for c in pattern))
                if compiled is not None:
                    names.regex.append((compiled, server, pattern))
                continue
            p = pattern.lower()
            if p.startswith(".") and len(p) > 1:
                if p[1:] in exact_keys:
                    continue
                exact_keys.add(p[1:])
                names.head.setdefault(p[1:], (server, pattern, True))
            elif p.startswith("*.") and len(p) > 2:
                names.head.setdefault(p[2:], (server, pattern, False))
            elif p.endswith(".*") and len(p) > 2:
                names.tail.setdefault(p[:-2], (server, pattern))
            elif p not in exact_keys:
                exact_keys.add(p)
                names.exact[p] = (server, pattern)
    return names
