"""websocket-upgrade: the location serving the app's WebSocket (Open WebUI's Socket.IO at
/ws/socket.io/) does not pass the Upgrade handshake on, or closes the socket between pings."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective, format_seconds, parse_time
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding
from versectl.nginx.rules.conditions import anchor
from versectl.nginx.rules.family import Family

name = "websocket-upgrade"
severity = Severity.error
family = Family.routing
summary = "the app's WebSocket location lacks the Upgrade headers or a long enough timeout"
explain = """\
## What it does
With `--app` for an app that streams over a WebSocket (Open WebUI's Socket.IO at
`/ws/socket.io/`, Dify's `/socket.io/`, AnythingLLM's agent socket), checks the location nginx
selects for that path: `proxy_http_version 1.1`, `proxy_set_header Upgrade $http_upgrade`,
`proxy_set_header Connection` with `upgrade` (or a `map` variable), and a `proxy_read_timeout`
longer than the socket's ping interval (Socket.IO pings every 25 s by default).

## Why it breaks streaming
nginx does not forward the hop-by-hop `Upgrade` and `Connection` headers on its own and speaks
HTTP/1.0 to backends by default, so the WebSocket handshake never reaches the app: the browser
gets an error, or Socket.IO falls back to HTTP long-polling, where tokens arrive in batches per
poll. Once upgraded, nginx closes a socket that stays silent longer than `proxy_read_timeout`
(60 s by default); a shorter value cuts the chat between two pings.

## Example
```nginx
location /ws/ {
    proxy_pass http://127.0.0.1:8080;   # Open WebUI
}
```

## Use instead
```nginx
location /ws/ {
    proxy_pass http://127.0.0.1:8080;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
    proxy_read_timeout 3600s;
}
```

## References
- https://nginx.org/en/docs/http/websocket.html
- https://socket.io/docs/v4/server-options/#pinginterval
- https://docs.openwebui.com/tutorials/https/nginx
"""


def _header(settings: Effective, header: str) -> str | None:
    """The value `proxy_set_header HEADER` sends in this location, None when not set."""
    for stmt in reversed(settings["proxy_set_header"].directives):
        if stmt.args and stmt.args[0].lower() == header and len(stmt.args) > 1:
            return stmt.args[1]
    return None


def _problems(loc: CheckedLocation, ping: float) -> list[str]:
    settings = loc.settings
    problems: list[str] = []
    version = settings["proxy_http_version"]
    if version.value != "1.1":
        problems.append(f"{version.describe()}: a WebSocket needs 1.1 to the upstream")
    upgrade = _header(settings, "upgrade")
    if upgrade is None or "$http_upgrade" not in upgrade:
        problems.append("no `proxy_set_header Upgrade $http_upgrade`: the handshake is dropped")
    connection = _header(settings, "connection")
    if connection is None or not ("upgrade" in connection.lower() or connection.startswith("$")):
        shown = "not set" if connection is None else repr(connection)
        problems.append(f"Connection {shown}: nginx sends `close` instead of `upgrade`")
    timeout = settings["proxy_read_timeout"]
    seconds = parse_time(timeout.value)
    if seconds is not None and seconds <= ping:
        problems.append(
            f"{timeout.describe()} is not longer than the socket's ping interval "
            f"({format_seconds(ping)}): nginx closes it between pings"
        )
    return problems


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.websockets:
        handler = loc.settings.handler()
        if handler is None or handler.name != "proxy_pass":
            continue  # a location that does not proxy: no-proxy-pass's concern for the chat
        problems = _problems(loc, ctx.websocket_ping)
        if not problems:
            continue
        seconds = max(3600, int(ctx.websocket_ping) * 4)
        yield finding(
            name,
            Severity.error,
            loc,
            anchor(loc.settings["proxy_http_version"], loc),
            f"the WebSocket at {loc.uris[0]} ({loc.label}): " + "; ".join(problems),
            "proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
            f'proxy_set_header Connection "upgrade"; proxy_read_timeout {seconds}s;',
        )
