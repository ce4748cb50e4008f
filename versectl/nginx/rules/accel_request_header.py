"""accel-request-header: X-Accel-Buffering set by nginx itself (towards the backend or the
client) is folklore: nginx only obeys it in the backend's response."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.directive_table import ACCEL_ONLY_IN_RESPONSE, sets_accel_buffering
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.conditions import buffering_on, module_prefix
from versectl.nginx.rules.family import Family

name = "accel-request-header"
severity = Severity.info
family = Family.buffering
summary = "X-Accel-Buffering set with proxy_set_header/add_header does nothing"
explain = """\
## What it does
Finds `proxy_set_header X-Accel-Buffering ...` (a header sent to the backend) and
`add_header X-Accel-Buffering ...` (a header sent to the client) in effect for a chat location.

## Why it breaks streaming
It does not break it, and it does not fix it either. nginx reads `X-Accel-Buffering` only from
the backend's response headers. Measured on nginx 1.22: a location with either line and
buffering on holds the stream exactly like the same location without it. The line gives a
false sense that buffering is handled.

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_set_header X-Accel-Buffering no;
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_buffering off;
}
```
or let the backend send `X-Accel-Buffering: no` in its response (verse_backend does).

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_buffering
- https://www.nginx.com/resources/wiki/start/topics/examples/x-accel/#x-accel-buffering
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        settings = loc.settings
        prefix = module_prefix(settings) or "proxy"
        fix = f"{prefix}_buffering off;" if buffering_on(settings) else None
        for directive in ("proxy_set_header", "add_header"):
            for stmt in settings[directive].directives:
                if sets_accel_buffering(stmt.name, stmt.args):
                    towards = "the backend" if directive == "proxy_set_header" else "the client"
                    yield finding(
                        name,
                        Severity.info,
                        loc,
                        (stmt.file, stmt.line),
                        f"{stmt.render()} sends the header to {towards}: "
                        f"{ACCEL_ONLY_IN_RESPONSE}, so this changes nothing (measured)"
                        + ("; buffering is still on" if fix else ""),
                        fix,
                    )
