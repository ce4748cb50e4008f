"""missing-location: no server has a location for a chat URI, so nginx never forwards it."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.clients import ALL_CLIENTS, ordered
from versectl.nginx.directive import Directive
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import LocationMatch, servers
from versectl.nginx.model.redirect import nginx_answer, to_https_same_uri
from versectl.nginx.model.select import server_names
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
location matches at all. With `--host`/`--port` it judges only the server(s) that request
reaches, names them, and its findings are about their kinds of client; when each of them
answers the URI with a redirect to https for the same URI (`return 301
https://$host$request_uri` at server level, certbot's `if ($host = ...)`), that is an info:
the https server is the one that streams, and it is judged on its own. Also reports a config
without any http server, or without one matching `--server-name`.

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
    if not all_servers:
        message = "no http server block in this configuration"
        yield finding(name, Severity.error, None, (config.main_file, 1), message, None)
        return
    # with --host/--port: only the server(s) that request reaches, and the clients they have
    first = ctx.selected[0].server if ctx.selected else all_servers[0][1]
    where = (first.file, first.line)
    clients = ALL_CLIENTS
    if ctx.selected is not None:
        clients = ordered(k for s in ctx.selected for k in (s.clients or ALL_CLIENTS))
    snippet = (
        f"location /api/ {{ proxy_pass http://127.0.0.1:{ctx.backend.port}; proxy_buffering off; }}"
    )
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
            clients,
        )
        return
    for uri in ctx.uris:
        if any(uri in loc.uris for loc in ctx.locations):
            continue
        reached = [m for m in ctx.unmatched if m.uri == uri]
        answers = [nginx_answer(m) for m in reached]
        if ctx.selected is not None and reached:
            redirects = [a for a in answers if a is not None and to_https_same_uri(a, uri)]
            if len(redirects) == len(reached):
                yield finding(
                    name,
                    Severity.info,
                    None,
                    (redirects[0].file, redirects[0].line),
                    f"{_servers(ctx)} redirects {uri} to https (`{redirects[0].render()}`); "
                    "the https server is the one that streams",
                    None,
                    clients,
                )
                continue
        yield finding(
            name,
            Severity.error,
            None,
            where,
            f"no location matches {uri} in {_servers(ctx)}: nginx answers it itself "
            f"({_answer(reached, answers)})",
            snippet,
            clients,
        )


def _servers(ctx: RuleContext) -> str:
    """`any server`, or the selected server(s) by name and position."""
    if ctx.selected is None:
        return "any server"
    named = [
        f"{' '.join(server_names(s.server)) or '(no name)'} ({s.server.where})"
        for s in ctx.selected
    ]
    return f"the selected server{'s' if len(named) > 1 else ''} {', '.join(named)}"


def _answer(reached: list[LocationMatch], answers: list[Directive | None]) -> str:
    """What the servers reached answer: a server-level `return` (or a plain server's redirect)
    runs before the location search (rewrite phase), else a 404."""
    found = [a for a in answers if a is not None]
    if reached and len(found) == len(reached):
        return f"`{found[0].render()}`"
    return "404"
