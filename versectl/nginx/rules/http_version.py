"""http-version: nginx talks HTTP/1.0 to the backend (its default); harmless for streaming while
buffering is off, the cause of a held stream as soon as buffering is on."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.conditions import anchor, buffering_on, http10_upstream
from versectl.nginx.rules.family import Family

name = "http-version"
severity = Severity.info
family = Family.buffering
summary = "nginx talks HTTP/1.0 to the backend (proxy_http_version default)"
explain = """\
## What it does
Notes chat locations that proxy with HTTP/1.0 (`proxy_http_version` unset or 1.0) while
buffering is off. With buffering on, the same setting is part of the proxy-buffering error.

## Why it breaks streaming
It does not by itself: measured on nginx 1.22, `proxy_buffering off` streams from an HTTP/1.0
upstream, over plain HTTP, HTTP/1.1 over TLS (whatever `ssl_buffer_size` says: nginx flushes
each read) and HTTP/2 alike. But an HTTP/1.0 request makes a conforming backend send a close-delimited body, and
once buffering is back on (an outer `proxy_buffering on`, a backend sending
`X-Accel-Buffering: yes`) that body is held until the end. HTTP/1.0 also means a new
connection to the backend per request (no upstream keepalive).

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_buffering off;
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_http_version 1.1;
    proxy_buffering off;
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version
- https://nginx.org/en/docs/http/ngx_http_upstream_module.html#keepalive
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        settings = loc.settings
        if not http10_upstream(settings) or buffering_on(settings):
            continue  # with buffering on, proxy-buffering reports it as an error
        version = settings["proxy_http_version"]
        yield finding(
            name,
            Severity.info,
            loc,
            anchor(version, loc),
            f"{version.describe()} in {loc.label}: streams because buffering is off; a "
            "conforming backend's HTTP/1.0 answer would be held if buffering came back on",
            "proxy_http_version 1.1;",
        )
