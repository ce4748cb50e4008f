"""The listeners of every server as nginx 1.22 builds them (`listen`, whose options nginx ORs over
all servers on one address:port; `ssl on;`; 1.25.1's `http2 on;`), the effective
`ssl_buffer_size`, and so which kinds of client can reach each server."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from versectl.errors import ConfigParseError
from versectl.nginx.clients import ClientKind, ordered
from versectl.nginx.directive import Directive
from versectl.nginx.model.effective import Effective, Setting
from versectl.nginx.model.timeunits import parse_size

WILDCARD = "*"
"""The address of `listen 443` / `listen *:443` / `listen 0.0.0.0:443` (INADDR_ANY)."""

DEFAULT_PORT = 80
"""The port of a `listen` without one (`listen 127.0.0.1`: ngx_http_core_listen's default)."""
IMPLICIT_PORT_ROOT = 80
IMPLICIT_PORT_USER = 8000
"""A server without `listen` listens on *:80 when nginx runs as root, else on *:8000."""


@dataclass(frozen=True)
class Listen:
    """One `listen` statement, parsed as ngx_http_core_listen does."""

    address: str
    """`*`, an IPv4 address, `[v6]` (normalized), a host name, or `unix:/path`."""
    port: int | None
    """None for a unix socket."""
    ssl: bool
    http2: bool
    default_server: bool
    quic: bool
    """UDP (HTTP/3, 1.25+): not a TCP listener, left out of the TCP model."""
    directive: Directive | None
    """None: the implicit listen of a server without any."""

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.address, self.port)

    @property
    def text(self) -> str:
        """`*:443`, `[::]:443`, `unix:/run/x.sock`: how reports name the address:port."""
        return self.address if self.port is None else f"{self.address}:{self.port}"


def parse_listen(stmt: Directive) -> Listen:
    """A `listen` statement; ConfigParseError where nginx -t would reject the address."""
    if not stmt.args:
        raise ConfigParseError('invalid number of arguments in "listen" directive', *_at(stmt))
    address, port = parse_address(stmt.args[0], stmt)
    params = {arg.lower() for arg in stmt.args[1:]}
    return Listen(
        address=address,
        port=port,
        ssl="ssl" in params,
        http2="http2" in params,
        default_server=bool(params & {"default_server", "default"}),
        quic="quic" in params,
        directive=stmt,
    )


def parse_address(text: str, stmt: Directive | None = None) -> tuple[str, int | None]:
    """`443` -> (*, 443); `127.0.0.1` -> (127.0.0.1, 80); `[::]:443`; `unix:/x` (ngx_parse_url
    with listen = 1 and default_port = 80)."""
    where = _at(stmt)
    if not text.strip():
        raise ConfigParseError('no host in "" of the "listen" directive', *where)
    if text.lower().startswith("unix:"):
        if len(text) <= len("unix:"):
            raise ConfigParseError(f'no path in the unix domain socket "{text}"', *where)
        return text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ConfigParseError(f'invalid IPv6 address in "{text}"', *where)
        try:
            ip = ipaddress.IPv6Address(text[1:end])
        except ValueError:
            raise ConfigParseError(f'invalid IPv6 address in "{text}"', *where) from None
        rest = text[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ConfigParseError(f'invalid host in "{text}"', *where)
        port = _port(rest[1:], text, where) if rest else DEFAULT_PORT
        return f"[{ip.compressed}]", port
    host, colon, port_text = text.partition(":")
    if colon:
        port = _port(port_text, text, where)
    elif text.isdigit():
        return WILDCARD, _port(text, text, where)  # a bare number is a port
    else:
        port = DEFAULT_PORT
    if host in ("*", "", "0.0.0.0"):
        if host == "" and colon:
            raise ConfigParseError(f'no host in "{text}"', *where)
        return WILDCARD, port
    return host.lower(), port


def _port(text: str, whole: str, where: tuple[str, int]) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigParseError(f'invalid port in "{whole}" of the "listen" directive', *where)
    return int(text)


def _at(stmt: Directive | None) -> tuple[str, int]:
    return (stmt.file, stmt.line) if stmt is not None else ("", 0)


def server_listens(server: Directive, implicit_port: int = IMPLICIT_PORT_ROOT) -> list[Listen]:
    """The server's TCP `listen`s; a server without one listens on *:80 (*:8000 unprivileged)."""
    found = [parse_listen(stmt) for stmt in server.children("listen")]
    if not found:
        return [Listen(WILDCARD, implicit_port, False, False, False, False, None)]
    return [listen for listen in found if not listen.quic]


@dataclass(frozen=True)
class Listener:
    """One address:port as nginx runs it: `ssl` and `http2` are ORed over every `listen` of
    that address:port in any server (ngx_http_add_addresses), so one `listen 443 ssl http2`
    gives HTTP/2 to every server on *:443."""

    address: str
    port: int | None
    ssl: bool
    """From `listen ... ssl` anywhere on it, or `ssl on;` in its default server."""
    http2: bool
    """From `listen ... http2` anywhere on it."""
    legacy_ssl: bool
    """TLS because the default server says `ssl on;` (no `listen ... ssl` on it)."""
    default_server: Directive
    """The server with `default_server` there, else the first server listening there: the one
    a client reaches whose Host/SNI names no server."""
    explicit_default: bool
    """`default_server` was written (else the first server is the default)."""
    servers: tuple[Directive, ...]

    @property
    def text(self) -> str:
        return self.address if self.port is None else f"{self.address}:{self.port}"


@dataclass(frozen=True)
class ServerListeners:
    """A server's view of its listeners and the kinds of client that can reach it."""

    server: Directive
    listens: tuple[Listen, ...]
    listeners: tuple[Listener, ...]
    """One per address:port of `listens`, in the same order."""
    http2_on: Setting
    """`http2 on;` (nginx 1.25.1+; per server, chosen by SNI); an unknown directive to 1.22."""
    ssl_buffer_size: Setting

    @property
    def ssl_buffer_bytes(self) -> int:
        size = parse_size(self.ssl_buffer_size.value)
        return size if size is not None else 16384

    def speaks_h2(self, listener: Listener) -> bool:
        """HTTP/2 offered by ALPN on this TLS listener when this server is selected."""
        return listener.ssl and (listener.http2 or self.http2_on.value.lower() == "on")

    @property
    def tls(self) -> bool:
        return any(listener.ssl for listener in self.listeners)

    @property
    def h2(self) -> bool:
        return any(self.speaks_h2(listener) for listener in self.listeners)

    def is_default(self, listener: Listener) -> bool:
        return listener.default_server is self.server

    @property
    def clients(self) -> tuple[ClientKind, ...]:
        """Who can reach this server: plain listener -> http1.1 (unless nginx 1.22 speaks only
        HTTP/2 there); TLS listener -> http1.1+tls always (ALPN falls back to http/1.1), h2 too
        when HTTP/2 is on for it."""
        kinds: list[ClientKind] = []
        for listener in self.listeners:
            if listener.ssl:
                kinds.append(ClientKind.http1_1_tls)
                if self.speaks_h2(listener):
                    kinds.append(ClientKind.h2)
            elif not listener.http2:
                kinds.append(ClientKind.http1_1)
        return ordered(kinds)

    @property
    def h2c_only(self) -> tuple[Listener, ...]:
        """Plain listeners with the `http2` parameter: nginx 1.22 speaks only HTTP/2 with prior
        knowledge there, so HTTP/1.1 clients (every browser over http://) fail."""
        return tuple(x for x in self.listeners if not x.ssl and x.http2)

    def describe(self) -> str:
        """`*:443 ssl h2 default_server, *:80; ssl_buffer_size 16k (default)`."""
        parts = []
        for listener in self.listeners:
            own = [x for x in self.listens if x.key == (listener.address, listener.port)]
            flags = " ssl" if listener.ssl else ""
            if self.speaks_h2(listener):
                flags += " h2"
            elif listener.http2:
                flags += " h2c-only"
            if listener.legacy_ssl:
                flags += " (ssl on; in its default server)"
            elif (listener.ssl and not any(x.ssl for x in own)) or (
                listener.http2 and not any(x.http2 for x in own)
            ):
                flags += " (from another server's listen on it)"
            if self.is_default(listener):
                flags += " default_server"
            parts.append(f"{listener.text}{flags}")
        text = ", ".join(parts)
        if self.tls:
            text += f"; {self.ssl_buffer_size.describe()}"
        return text


class ListenerModel:
    """Every server's listeners, with the options of one address:port merged across servers."""

    def __init__(
        self,
        servers: Sequence[tuple[Directive, Directive]],
        implicit_port: int = IMPLICIT_PORT_ROOT,
    ) -> None:
        """`servers`: (http block, server) pairs, in config order (model.select.servers)."""
        self._http = {id(server): http for http, server in servers}
        self._listens = {id(s): server_listens(s, implicit_port) for _h, s in servers}
        self.listeners = self._merge([s for _h, s in servers])
        self._by_key = {(x.address, x.port): x for x in self.listeners}

    def _merge(self, servers: list[Directive]) -> tuple[Listener, ...]:
        order: list[tuple[str, int | None]] = []
        ssl: dict[tuple[str, int | None], bool] = {}
        http2: dict[tuple[str, int | None], bool] = {}
        default: dict[tuple[str, int | None], Directive] = {}
        members: dict[tuple[str, int | None], list[Directive]] = {}
        seen: set[tuple[tuple[str, int | None], int]] = set()
        for server in servers:
            for listen in self._listens[id(server)]:
                key = listen.key
                if key not in members:
                    order.append(key)
                    members[key], ssl[key], http2[key] = [], False, False
                if (key, id(server)) not in seen:  # identity: blocks compare deep, slowly
                    seen.add((key, id(server)))
                    members[key].append(server)
                ssl[key] = ssl[key] or listen.ssl
                http2[key] = http2[key] or listen.http2
                if listen.default_server and key not in default:
                    default[key] = server
        result = []
        for key in order:
            chosen = default.get(key, members[key][0])
            # `ssl on;` (removed in 1.25.1) works through the default server's settings: the
            # connection's configuration before any Host/SNI is known (ngx_http_init_connection)
            legacy_ssl = self._settings(chosen)["ssl"].value.lower() == "on"
            result.append(
                Listener(
                    address=key[0],
                    port=key[1],
                    ssl=ssl[key] or legacy_ssl,
                    http2=http2[key],
                    legacy_ssl=legacy_ssl and not ssl[key],
                    default_server=chosen,
                    explicit_default=key in default,
                    servers=tuple(members[key]),
                )
            )
        return tuple(result)

    def _settings(self, server: Directive) -> Effective:
        return Effective((self._http[id(server)], server))

    def for_server(self, server: Directive) -> ServerListeners:
        listens = tuple(self._listens[id(server)])
        keys = list(dict.fromkeys(listen.key for listen in listens))
        settings = self._settings(server)
        return ServerListeners(
            server=server,
            listens=listens,
            listeners=tuple(self._by_key[key] for key in keys),
            http2_on=settings["http2"],
            ssl_buffer_size=settings["ssl_buffer_size"],
        )
