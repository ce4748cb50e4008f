"""missing-location: no server has a location for a chat URI, so nginx never forwards it."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import servers
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "missing-location"
severity = Severity.error
family = Family.routing
summary = "no location matches the chat URI in any server"
explain = """\
## What it does
For every `--uri` (default /api/chat/message and /api/standalone-chat), runs nginx's location
search in every server (those matching `--server-name`, when given) and reports URIs that no
location matches at all. Also reports a config without any http server, or without one
matching `--server-name`.

## Why it breaks streaming
The request never reaches the backend: nginx answers it itself (404 from the document root,
or the server-level `return`, such as a plain-HTTP server's redirect to https).
Typical causes: the /api location sits in a server that does not receive the traffic (a
server_name typo, the HTTP server while users come over HTTPS), or the site file is not
included at all.

## Example
```nginx
server {
    listen 80;
    location / { root /var/www/verse; try_files $uri /index.html; }
}
```

## Use instead
```nginx
server {
    listen 80;
    location / { root /var/www/verse; try_files $uri /index.html; }
    location /api/ {
        proxy_pass http://127.0.0.1:7776;
        proxy_buffering off;
    }
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location
- https://nginx.org/en/docs/http/request_processing.html
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    config = ctx.config
    all_servers = servers(config)
    where = (
        (all_servers[0][1].file, all_servers[0][1].line) if all_servers else (config.main_file, 1)
    )
    snippet = (
        f"location /api/ {{ proxy_pass http://127.0.0.1:{ctx.backend.port}; proxy_buffering off; }}"
    )
    if not all_servers:
        yield finding(
            name, Severity.error, None, where, "no http server block in this configuration", None
        )
        return
    matched_servers = {id(m.server) for m in ctx.unmatched} | {
        id(loc.match.server) for loc in ctx.locations
    }
    if ctx.server_name is not None and not matched_servers:
        yield finding(
            name,
            Severity.error,
            None,
            where,
            f"no server has server_name {ctx.server_name}",
            None,
        )
        return
    for uri in ctx.uris:
        if any(uri in loc.uris for loc in ctx.locations):
            continue
        yield finding(
            name,
            Severity.error,
            None,
            where,
            f"no location matches {uri} in any server: nginx answers it itself "
            f"({_answer(ctx, uri)})",
            snippet,
        )


def _answer(ctx: RuleContext, uri: str) -> str:
    """What the servers reached answer: a server-level `return` runs before the location
    search (rewrite phase: a plain-HTTP server that redirects to https), else a 404."""
    reached = [m for m in ctx.unmatched if m.uri == uri]
    returns = [r for m in reached if (r := next(m.server.children("return"), None)) is not None]
    if reached and len(returns) == len(reached):
        return f"`{returns[0].render()}`"
    return "404"
