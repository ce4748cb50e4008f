"""The new `proxy_pass` for the block: the user's scheme, host and URI part, the backend's port."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from versectl.nginx.model.targets import Target
from versectl.nginx.model.variables import address_url

URL = re.compile(
    r"(?P<scheme>[a-z]+://)(?P<host>\[[^\]]*\]|[^/:?]+)(?::(?P<port>[^/?]*))?(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Retarget:
    """The proxy_pass URL to write, and why it was left alone when it was."""

    url: str
    note: str | None = None


def retarget(
    url: str | None,
    port: int,
    upstreams: Collection[str],
    variables: Mapping[str, str] | None = None,
) -> Retarget:
    """Point `url` at `port`, keeping everything else (a docker host name, a `/` URI part).

    Only a target on this machine (localhost, 127.x, ::1, this host's name) follows `port`.
    The URI part matters: `proxy_pass http://h:1/;` strips the location prefix from the
    request path and `proxy_pass http://h:1;` does not, so it is never touched. Left as it
    is, with a note: variables (resolved per request), unix sockets, and the name of an
    `upstream {}` block (its `server` lines hold the port). A literal address before a path
    variable (`http://127.0.0.1:8000$request_uri`) is set like any; one made of literal `set`
    `variables` (Nginx Proxy Manager) is checked, and the note names what to change.
    """
    if url is None:
        return Retarget(f"http://{DEFAULT_HOST}:{port}")
    if "$" in url:
        return _behind_variables(url, port, upstreams, variables or {})
    match = URL.fullmatch(url)
    if match is None:
        return Retarget(url, "proxy_pass is not a URL versectl understands: left as it is")
    scheme, host, old_port, rest = match.group("scheme", "host", "port", "rest")
    if host.lower() == "unix":
        return Retarget(url, "proxy_pass goes to a unix socket: no port to set")
    if old_port is None and host in upstreams:
        return Retarget(url, f"proxy_pass names upstream {host}: its port is set in that block")
    if not Target(host, None).is_local:
        # a container name or another machine: the backend port is this machine's, not its
        return Retarget(url, f"proxy_pass goes to {host}, not this machine: its port stays")
    return Retarget(f"{scheme}{host}:{port}{rest}")


def _behind_variables(
    url: str, port: int, upstreams: Collection[str], variables: Mapping[str, str]
) -> Retarget:
    address = address_url(url, variables)
    if "$" in address or not address:
        return Retarget(url, "proxy_pass uses variables: its port cannot be checked statically")
    if url.startswith(address):  # written in the URL itself, a request path after it
        fixed = retarget(address, port, upstreams)
        return Retarget(fixed.url + url[len(address) :], fixed.note)
    fixed = retarget(address, port, upstreams)
    if fixed.url == address or fixed.note:
        return Retarget(url, fixed.note)
    return Retarget(
        url,
        f"proxy_pass goes to {address} through `set` variables: set its port to {port} "
        "where they are set (versectl leaves shared `set` lines alone)",
    )
