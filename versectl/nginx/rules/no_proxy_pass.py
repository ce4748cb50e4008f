"""no-proxy-pass: the location nginx selects for a chat URI does not forward it to a backend."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import location_pattern
from versectl.nginx.model.redirect import nginx_answer, to_https_same_uri
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding
from versectl.nginx.rules.family import Family

name = "no-proxy-pass"
severity = Severity.error
family = Family.routing
summary = "the location selected for the chat URI has no proxy_pass"
explain = """\
## What it does
Reports chat URIs whose selected location (nginx's order: exact, longest prefix, `^~`,
regexes) forwards nowhere: no `proxy_pass` (nor grpc_/uwsgi_/fastcgi_/scgi_pass). It is an error
when no server forwards the URI, a warning when another server does (requests that arrive at
this server, by its name or as the default server, are not forwarded). A location or server
that redirects the URI to https for the same URI (certbot's `if ($host = ...)`, `return 301
https://$host$request_uri`, `rewrite ^ https://$host$request_uri? permanent`) is only an info:
the client is sent to the TLS server, which is judged on its own. A redirect to plain http or
to another path is not exempt.

## Why it breaks streaming
nginx answers the request itself: a 404, the SPA's index.html with status 200 (the frontend
then fails to parse HTML as an event stream), or a `return`. A regex location such as
`location ~* \\.(js|css)$` or a nested location without its own proxy_pass often catches
the URI before the /api prefix location does: handlers are not inherited by nested locations.

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    location /api/chat { proxy_buffering off; }    # nested: forwards nowhere
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    location /api/chat { proxy_pass http://127.0.0.1:7776; proxy_buffering off; }
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_core_module.html#location
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    forwarded = {uri for loc in ctx.locations if loc.settings.handler() for uri in loc.uris}
    for loc in ctx.locations:
        if loc.settings.handler() is not None:
            continue
        names = " ".join(loc.match.server_names)
        answer_by = nginx_answer(loc.match)
        if answer_by is not None and all(to_https_same_uri(answer_by, u) for u in loc.uris):
            yield finding(
                name,
                Severity.info,
                loc,
                (answer_by.file, answer_by.line),
                f"{loc.label} (server {names!r}) redirects {', '.join(loc.uris)} to https "
                f"(`{answer_by.render()}`); the https server is the one that streams",
            )
            continue
        # the server's rewrite phase answers first; else the location's own `return`
        returns = [answer_by] if answer_by is not None else []
        returns += loc.match.chain[-1].children("return")
        answer = f"`{returns[0].render()}`" if returns else "a static file or 404"
        alone = [uri for uri in loc.uris if uri not in forwarded]
        yield finding(
            name,
            Severity.error if alone else Severity.warning,
            loc,
            (loc.file, loc.line),
            f"{loc.label} (server {names!r}) is selected for {', '.join(loc.uris)} but forwards "
            f"nowhere: nginx answers with {answer}"
            + ("" if alone else " (another server forwards these URIs)"),
            _fix(loc, ctx.backend.port),
        )


def _fix(loc: CheckedLocation, port: int) -> str:
    """proxy_pass in the location when it is meant for the API; else a location of its own
    (proxying a catch-all `location /` would send the whole site to the backend)."""
    pattern = location_pattern(loc.match.chain[-1]).pattern if loc.match.location else "/"
    if pattern.strip("^$/") and any(uri.startswith(pattern) for uri in loc.uris):
        return f"proxy_pass http://127.0.0.1:{port};"
    return f"location /api/ {{ proxy_pass http://127.0.0.1:{port}; proxy_buffering off; }}"
