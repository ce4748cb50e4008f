"""gzip-event-stream: gzip compresses text/event-stream while buffering is on, so every client
that accepts gzip (every browser) gets the reply in one piece."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding, first_variant
from versectl.nginx.rules.conditions import (
    anchor,
    buffering,
    gzip_on_event_stream,
    module_prefix,
    variant_label,
)
from versectl.nginx.rules.family import Family

name = "gzip-event-stream"
severity = Severity.error
family = Family.buffering
summary = "gzip compresses text/event-stream while response buffering is in effect"
explain = """\
## What it does
Finds chat locations where `gzip on` and a `gzip_types` listing `text/event-stream` (or `*`)
apply while response buffering is on - also through an `if` block that turns gzip on.

## Why it breaks streaming
With buffering on, nginx hands the body to its filters without a flush after each event; the
gzip filter then keeps compressing into its buffer until the buffer fills or the stream ends.
Measured on nginx 1.22 with `proxy_http_version 1.1`: a client without `Accept-Encoding: gzip`
(curl) sees the stream, a client with it (every browser) gets ONE read at the end. With
buffering off nginx flushes gzip after each event, and compressed events stream. The hold is
the gzip filter's, not the transport's: it affects gzip-accepting clients over plain HTTP,
HTTP/1.1 over TLS and HTTP/2 alike, so the finding lists every kind that reaches the server.

## Example
```nginx
gzip on;
gzip_types text/plain application/json text/event-stream;
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_http_version 1.1;
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_buffering off;    # compressed events are flushed one by one
}
```
or drop `text/event-stream` from `gzip_types` (or `gzip off;` in the location).

## References
- https://nginx.org/en/docs/http/ngx_http_gzip_module.html#gzip_types
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering
- versectl/nginx/TRUTH_MATRIX.md
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        yield from first_variant(loc, _judge)


def _judge(loc: CheckedLocation, settings: Effective, index: int) -> Finding | None:
    sse = gzip_on_event_stream(settings)
    setting = buffering(settings)
    if sse is None or setting is None or setting.value.lower() != "on":
        return None
    prefix = module_prefix(settings)
    return finding(
        name,
        Severity.error,
        loc,
        anchor(sse.gzip, loc),
        f"{sse.gzip.describe()} and {sse.types.name} with text/event-stream "
        f"({sse.types.origin}) while {setting.describe()} in {loc.label}"
        f"{variant_label(loc, index)}: browsers (Accept-Encoding: gzip) get the reply in one "
        "piece at the end",
        f"{prefix}_buffering off;",
    )
