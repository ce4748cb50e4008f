"""ignore-accel-buffering: `proxy_ignore_headers X-Accel-Buffering` throws away the backend's
request to stream (`X-Accel-Buffering: no`) while buffering is on."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.clients import ClientKind, names, split_verdict
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding, first_variant
from versectl.nginx.rules.conditions import (
    anchor,
    buffering_on,
    http10_upstream,
    ignores_accel_buffering,
    module_prefix,
    tls_hold,
)
from versectl.nginx.rules.family import Family

name = "ignore-accel-buffering"
severity = Severity.warning
family = Family.buffering
summary = "the backend's X-Accel-Buffering: no is ignored while buffering is on"
explain = """\
## What it does
Finds chat locations whose `proxy_ignore_headers` (or uwsgi_/fastcgi_ equivalent) lists
`X-Accel-Buffering` while response buffering is on: an error with nginx's default HTTP/1.0
upstream (every client), an error for HTTP/1.1-over-TLS clients with `proxy_http_version 1.1`
on a server with a TLS listener, else a warning.

## Why it breaks streaming
A backend that sends `X-Accel-Buffering: no` (verse_backend, FastAPI's SSE, sse-starlette)
switches buffering off for its own answer: measured, it then streams through every buffering
and gzip combination nginx 1.22 offers. Ignoring the header takes that escape away: with gzip
on text/event-stream the same backend is then held to the end (measured). Without gzip it
still streams to plain HTTP and HTTP/2 clients, but only because uvicorn chunks its body; for
HTTP/1.1 over TLS (SDKs, curl --http1.1) nginx's TLS layer then collects the chunks until
`ssl_buffer_size` fills or the answer ends (issue 8: held), so on a server with a TLS listener
this is an error for those clients, a warning on a plain-only server. With nginx's default
HTTP/1.0 upstream it is an error for every client: uvicorn answers an HTTP/1.0 request
unchunked, and verse_backend is then held over plain HTTP and HTTP/2 as well (measured).

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_ignore_headers X-Accel-Buffering Expires;
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_ignore_headers Expires;
    proxy_buffering off;
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_ignore_headers
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering
- versectl/nginx/TRUTH_MATRIX.md
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        yield from first_variant(loc, _judge)


def _judge(loc: CheckedLocation, settings: Effective, _index: int) -> Finding | None:
    ignored = ignores_accel_buffering(settings)
    if ignored is None or not buffering_on(settings):
        return None
    remaining = [
        arg for entry in ignored.entries for arg in entry if arg.lower() != "x-accel-buffering"
    ]
    fix = f"{ignored.name} {' '.join(remaining)};" if remaining else None
    prefix = module_prefix(settings)
    head = (
        f"{ignored.describe()} in {loc.label} while {prefix}_buffering is on: a backend's "
        "X-Accel-Buffering: no cannot switch buffering off"
    )
    tail = "" if fix else "; remove this line"
    if http10_upstream(settings):
        # measured: uvicorn answers nginx's HTTP/1.0 request unchunked, so the header was the
        # backend's only way out; without it every client waits for the end
        return finding(
            name,
            Severity.error,
            loc,
            anchor(ignored, loc),
            f"{head}, and with {settings['proxy_http_version'].describe()} even such a backend "
            f"(verse_backend, uvicorn) answers unchunked: held for {names(loc.clients)}{tail}",
            fix,
        )
    why = tls_hold(loc) if prefix == "proxy" else None
    if why is not None:
        tls = (ClientKind.http1_1_tls,)
        return finding(
            name,
            Severity.error,
            loc,
            anchor(ignored, loc),
            f"{head}, so even such a backend's answer is {split_verdict(tls, loc.clients, why)}"
            f"{tail}",
            fix,
            clients=tls,
        )
    return finding(name, Severity.warning, loc, anchor(ignored, loc), head + tail, fix)
