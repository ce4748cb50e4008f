"""connection-header: `proxy_set_header Connection ...` is folklore for SSE; it changes nothing
about streaming (it matters for upstream keepalive and WebSocket upgrades only)."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "connection-header"
severity = Severity.info
family = Family.buffering
summary = "proxy_set_header Connection has no effect on streaming"
explain = """\
## What it does
Notes a `proxy_set_header Connection ...` in effect for a chat location, and says what it
really does there.

## Why it breaks streaming
It does not: measured on nginx 1.22, `proxy_set_header Connection '';` streams exactly like the
same location without it, with and without buffering. It is the other half of upstream
keepalive (`keepalive N;` in an `upstream {}` block plus `proxy_http_version 1.1;`), and
`Connection: upgrade` is for WebSockets. The backend's `Connection: keep-alive` response header
is dropped by nginx either way.

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_set_header Connection '';     # "for SSE"
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_buffering off;                # what makes the stream flow
}
```
Keep `Connection ''` if you use upstream keepalive; it is harmless otherwise.

## References
- https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        headers = loc.settings["proxy_set_header"]
        for stmt in headers.directives:
            if len(stmt.args) >= 1 and stmt.args[0].lower() == "connection":
                value = stmt.args[1] if len(stmt.args) > 1 else ""
                yield finding(
                    name,
                    Severity.info,
                    loc,
                    (stmt.file, stmt.line),
                    f"proxy_set_header Connection {value!r} in {loc.label}: no effect on "
                    "streaming (measured); it only serves upstream keepalive or WebSockets",
                    None,
                )
