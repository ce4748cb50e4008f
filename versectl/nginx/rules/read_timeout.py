"""read-timeout: nginx gives up on a backend that stays silent longer than proxy_read_timeout,
and a chat stream has silences (the model thinking, a tool call)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import partial

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective, format_seconds, parse_time
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding, first_variant
from versectl.nginx.rules.conditions import anchor, module_prefix
from versectl.nginx.rules.family import Family

name = "read-timeout"
severity = Severity.error
family = Family.timeout
summary = "proxy_read_timeout is not longer than the backend's longest silence (--heartbeat)"
explain = """\
## What it does
Compares the effective `proxy_read_timeout` (or uwsgi_/fastcgi_/scgi_/grpc_read_timeout;
nginx's default is 60s) with `--heartbeat`, the longest time the backend stays silent (15 s
for verse_backend, which sends a `: ping` comment at least that often). Time units as nginx
reads them: `90` = `90s`, `1m`, `1h30m`, `500ms`.

## Why it breaks streaming
The timeout runs between two reads from the backend, not over the whole answer. When the
backend is silent for longer, nginx closes both connections. Measured on nginx 1.22
(`proxy_read_timeout 1s`, backend silent 3 s): status 200, the first events, then the
connection is cut mid-body (curl exit 18); error.log says "upstream timed out (110: Connection
timed out) while reading upstream". Buffering does not matter.

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_read_timeout 10s;     # the backend pings every 15 s
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_read_timeout 60s;     # comfortably above the heartbeat
}
```
The trade-off: the timeout is also how long nginx holds a connection to a backend that hangs
for good. A few heartbeats' worth (60 s by default) is enough; "3600" only delays the error
for a dead backend by an hour.

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_read_timeout
- https://html.spec.whatwg.org/multipage/server-sent-events.html (comments as keep-alive)
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        yield from first_variant(loc, partial(_judge, heartbeat=ctx.heartbeat))


def _judge(
    loc: CheckedLocation, settings: Effective, _index: int, *, heartbeat: float
) -> Finding | None:
    prefix = module_prefix(settings)
    if prefix is None:
        return None
    setting = settings[f"{prefix}_read_timeout"]
    seconds = parse_time(setting.value)
    suggestion = f"{prefix}_read_timeout {_suggest(heartbeat)};"
    if seconds is None:
        return finding(
            name,
            Severity.warning,
            loc,
            anchor(setting, loc),
            f"{setting.describe()}: not a time nginx understands",
            suggestion,
        )
    if seconds > heartbeat:
        return None
    return finding(
        name,
        Severity.error,
        loc,
        anchor(setting, loc),
        f"{setting.describe()} = {format_seconds(seconds)} is not longer than the backend's "
        f"longest silence ({format_seconds(heartbeat)}, --heartbeat) in {loc.label}: nginx cuts "
        "the stream mid-answer",
        suggestion,
    )


def _suggest(heartbeat: float) -> str:
    # four heartbeats, at least nginx's own default of 60s, in whole minutes
    return f"{max(60, math.ceil(4 * heartbeat / 60) * 60)}s"
