"""Where a location forwards requests: proxy_pass/grpc_pass/uwsgi_pass/... resolved to host and
port, through `upstream {}` blocks; `unix:` sockets and variables are reported as such."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from versectl.nginx.directive import Directive
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model.variables import address_url

_DEFAULT_PORTS = {"http": 80, "https": 443, "grpc": 80, "grpcs": 443}
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "ip6-localhost"})


@dataclass(frozen=True)
class Target:
    """One backend address a location forwards to."""

    host: str | None
    port: int | None
    unix: str | None = None
    upstream: str | None = None
    """The `upstream {}` block it came through, if any."""
    directive: Directive | None = None
    """The statement that names the address (proxy_pass, or the upstream's `server`)."""
    unresolved: str | None = None
    """Why no address could be derived (a variable in proxy_pass, an unknown upstream)."""

    @property
    def is_local(self) -> bool:
        """The backend runs on this machine: the case port checks can judge."""
        if self.host is None:
            return False
        host = self.host.strip("[]").lower()
        return host in _LOCAL_HOSTS or host.startswith("127.") or host == _own_hostname()


def _own_hostname() -> str:
    import socket  # here: ~2 ms of import, and only a host that is not plainly local asks

    return socket.gethostname().lower()


def upstreams(config: LoadedConfig) -> dict[str, Directive]:
    """Every `upstream NAME {}` block by name."""
    found: dict[str, Directive] = {}
    blocks = [d for d in config.root if d.name == "http" and d.block is not None]
    tops = [c for b in blocks for c in b.block or ()] + list(config.root)
    for stmt in tops:
        if stmt.name == "upstream" and stmt.args and stmt.block is not None:
            found.setdefault(stmt.args[0], stmt)
    return found


_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>.*)$", re.IGNORECASE)


def resolve_handler(
    stmt: Directive, ups: dict[str, Directive], values: Mapping[str, str] | None = None
) -> list[Target]:
    """Targets of a proxy_pass / grpc_pass / uwsgi_pass / fastcgi_pass / scgi_pass statement;
    `values`: the literal `set` values in its scope (model.variables.literal_sets)."""
    if not stmt.args:
        return [Target(None, None, directive=stmt, unresolved="no address")]
    raw = stmt.args[0]
    scheme = "http"
    rest = address_url(raw, values or {}) if "$" in raw else raw
    url = _URL.match(rest)
    if url:
        scheme, rest = url.group("scheme").lower(), url.group("rest")
    if "$" in rest.split("/", 1)[0]:
        return [
            Target(
                None, None, directive=stmt, unresolved=f"{raw}: a variable, resolved per request"
            )
        ]
    if rest.startswith("unix:"):
        return [Target(None, None, unix=rest[5:].split(":", 1)[0], directive=stmt)]
    hostport = rest.split("/", 1)[0]
    if hostport in ups:
        return _upstream_targets(ups[hostport])
    host, port = split_hostport(hostport, _DEFAULT_PORTS.get(scheme, 80))
    return [Target(host, port, directive=stmt)]


def _upstream_targets(block: Directive) -> list[Target]:
    name = block.args[0]
    found: list[Target] = []
    for server in block.children("server"):
        if not server.args:
            continue
        address = server.args[0]
        if address.startswith("unix:"):
            found.append(Target(None, None, unix=address[5:], upstream=name, directive=server))
            continue
        host, port = split_hostport(address, 80)
        found.append(Target(host, port, upstream=name, directive=server))
    if not found:
        found.append(
            Target(
                None,
                None,
                upstream=name,
                directive=block,
                unresolved=f"upstream {name} has no server",
            )
        )
    return found


def split_hostport(text: str, default_port: int) -> tuple[str, int | None]:
    """`host:port`, `[::1]:7776`, `host` -> (host, port); a non-numeric port gives None."""
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[: end + 1], text[end + 1 :]
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not port_text:
        return host, default_port
    return host, int(port_text) if port_text.isdigit() else None
