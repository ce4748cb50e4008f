"""header-inheritance: a location's own proxy_set_header replaces the whole list set at server
or http level, silently dropping Host and X-Forwarded-* for the chat requests."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "header-inheritance"
severity = Severity.warning
family = Family.routing
summary = "a location's proxy_set_header drops the headers set at an outer level"
explain = """\
## What it does
Finds chat locations that set any `proxy_set_header` (or `grpc_set_header`) of their own while
an outer level (http, server, an enclosing location) sets headers the location does not repeat.

## Why it breaks streaming
nginx does not merge these lists: a level that has one `proxy_set_header` replaces the inherited
list entirely. Adding `proxy_set_header Connection '';` "for SSE" in the /api location then
silently stops sending `Host $host` and `X-Forwarded-Proto $scheme` from the server block: the
backend sees `Host: 127.0.0.1:7776`, builds wrong absolute URLs and redirects, sets cookies
without `Secure` or rejects the session, and logs nginx's address instead of the client's.

## Example
```nginx
server {
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    location /api {
        proxy_pass http://127.0.0.1:7776;
        proxy_set_header Connection '';     # Host and X-Forwarded-Proto are gone here
    }
}
```

## Use instead
```nginx
    location /api {
        proxy_pass http://127.0.0.1:7776;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header Connection '';
    }
```
or keep all headers in one snippet (`include proxy_params;`) included at every level.

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_set_header
  ("inherited from the previous configuration level if and only if there are no
  proxy_set_header directives defined on the current level")
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        chain = loc.match.chain
        for directive in ("proxy_set_header", "grpc_set_header"):
            own = loc.settings[directive]
            if not own.directives:
                continue
            defining = own.level
            # the settings one level further out than the level that defines the list
            first = own.directives[0]
            # children() is indexed by name: scanning block.block was every server of http
            cut = max(
                i
                for i, block in enumerate(chain)
                if any(s is first for s in block.children(first.name))
            )
            outer = Effective(chain[:cut])[directive]
            if not outer.directives:
                continue
            kept = {entry[0].lower() for entry in own.entries if entry}
            dropped = [d for d in outer.directives if d.args and d.args[0].lower() not in kept]
            if not dropped:
                continue
            names = ", ".join(d.args[0] for d in dropped)
            yield finding(
                name,
                Severity.warning,
                loc,
                (own.directives[0].file, own.directives[0].line),
                f"the {defining} level's own {directive} (in {loc.label}) replaces the list set "
                f"at {outer.level} level ({outer.origin}): {names} no longer reach the backend",
                "\n".join(d.render() for d in dropped),
            )
