"""proxy-buffering: nginx buffers the backend's answer and, unless the backend chunks it, sends
the whole chat reply in one piece at the end."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.clients import ClientKind, names, split_verdict
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding, first_variant
from versectl.nginx.rules.conditions import (
    anchor,
    buffering,
    http10_upstream,
    ignores_accel_buffering,
    module_prefix,
    tls_hold,
)
from versectl.nginx.rules.family import Family

name = "proxy-buffering"
severity = Severity.error
family = Family.buffering
summary = "response buffering is in effect for the chat stream"
explain = """\
## What it does
Finds chat locations where `proxy_buffering` (or `uwsgi_`/`fastcgi_`/`scgi_buffering`) is on,
which is nginx's default. It is an error when nginx also talks HTTP/1.0 to the backend (again
the default), and an error for HTTP/1.1-over-TLS clients when it talks HTTP/1.1 on a server
with a TLS listener (`listen ... ssl`, or an `ssl on;` default server); on a plain-only server
that case is a warning. Each finding lists the client kinds it affects (`clients`).

## Why it breaks streaming
With buffering on, nginx reads the backend's answer into its buffers and passes it on when a
buffer is full or the answer ends. Measured on nginx 1.22: a backend that answers nginx's
HTTP/1.0 request without chunked framing (what a standards-conforming server does) reaches the
client as ONE read after the last token. It streams only when the backend chunks its body
(HTTP/1.1, or uvicorn, which chunks even for HTTP/1.0) or sends `X-Accel-Buffering: no` -
properties of the backend, not of nginx, that a gzip filter or `proxy_ignore_headers` defeat.

The transport matters too (issue 8, nginx 1.22.1, 40 events 25 ms apart, HTTP/1.1 upstream,
a chunking backend without `X-Accel-Buffering`): plain HTTP/1.1 streams (first byte 27 ms),
HTTP/2 over TLS streams (5 ms), but HTTP/1.1 over TLS - curl --http1.1, the Python/Node SDKs,
server-to-server calls, Chromium with HTTP/2 off - is HELD (first byte 1028 ms, the end):
nginx's TLS layer collects a buffered answer until `ssl_buffer_size` (16k by default) fills
or the answer ends. `ssl_buffer_size 1k` only turns the hold into bursts, one each time 1 KiB
fills (partial, first byte 771 ms); HTTP/2 is not affected by ssl_buffer_size.
A TLS listener always reaches HTTP/1.1 clients: ALPN falls back to http/1.1 for every client
that does not offer h2, and HTTP/2 on one `listen` of an address:port applies to every server
there.

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;   # proxy_buffering on, proxy_http_version 1.0 (defaults)
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_buffering off;
}
```
`proxy_http_version 1.1;` alone also streams from a backend that chunks, but only for plain
HTTP and HTTP/2 clients, and it rests on the backend; `proxy_buffering off;` streams for every
client kind. A smaller `ssl_buffer_size` is no substitute: it only shortens the wait.

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_http_version
- https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_buffer_size
- tests/e2e/test_check_truth.py (the measured matrix: versectl/nginx/TRUTH_MATRIX.md)
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        yield from first_variant(loc, _judge)


def _judge(loc: CheckedLocation, settings: Effective, _index: int) -> Finding | None:
    setting = buffering(settings)
    if setting is None or setting.value.lower() != "on":
        return None
    prefix = module_prefix(settings)
    fix = f"{prefix}_buffering off;"
    where = anchor(setting, loc)
    if prefix != "proxy":
        return finding(
            name,
            Severity.warning,
            loc,
            where,
            f"{setting.describe()} in {loc.label}: nginx may hold the chat stream until "
            "buffers fill or the answer ends (not measured for this module)",
            fix,
        )
    if http10_upstream(settings):
        version = settings["proxy_http_version"]
        return finding(
            name,
            Severity.error,
            loc,
            where,
            f"{setting.describe()} with {version.describe()} in {loc.label}: a backend that "
            "answers HTTP/1.0 without chunks (as a conforming server does) reaches the client "
            "in one piece at the end",
            fix,
        )
    version = settings["proxy_http_version"]
    why = tls_hold(loc)
    if why is not None:
        tls = (ClientKind.http1_1_tls,)
        escape = (
            "" if ignores_accel_buffering(settings) else " (unless it sends X-Accel-Buffering: no)"
        )
        return finding(
            name,
            Severity.error,
            loc,
            where,
            f"{setting.describe()} with {version.describe()} in {loc.label}: a chunked answer"
            f"{escape} is {split_verdict(tls, loc.clients, why)}",
            fix,
            clients=tls,
        )
    return finding(
        name,
        Severity.warning,
        loc,
        where,
        f"{setting.describe()} in {loc.label}: streams for {names(loc.clients)} only while the "
        "backend chunks its HTTP/1.1 answer or sends X-Accel-Buffering: no",
        fix,
    )
