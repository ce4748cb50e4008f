"""port-mismatch: the chat location forwards to a local port the backend does not listen on
(the seed's `localhost:8000` while the production backend listens on 7776)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Target
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding
from versectl.nginx.rules.family import Family

name = "port-mismatch"
severity = Severity.error
family = Family.routing
summary = "proxy_pass points at a local port other than the backend's"
explain = """\
## What it does
Resolves the chat location's `proxy_pass` (through `upstream {}` blocks) and compares every
target on this machine (localhost, 127.0.0.0/8, ::1, this host's name) with the backend's port:
`--backend-port`, else the published port of the backend service in `--compose`
(./docker-compose.prod.yml when present: "127.0.0.1:7776:7776", "7776:7776" or the long
syntax), else the `--app` profile's usual ports, else 7776, verse_backend's production port. Remote
targets are not judged. On no evidence at all (none of those, and offline or nothing answering
on this machine) a catch-all `location /` is only a warning: it may serve any app, and a config
forwarding an app's URIs to that app's usual port (Ollama's 11434) is judged as that app.

## Why it breaks streaming
Requests go to a port where the backend is not: nginx answers 502 Bad Gateway, or, worse,
another local service (a dev server on 8000) answers and nothing streams. Development and
production ports drift apart silently: the config was written for one, compose publishes another.

## Example
```nginx
location /api {
    proxy_pass http://localhost:8000;   # docker-compose.prod.yml publishes 7776
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://localhost:7776;
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
- https://docs.docker.com/reference/compose-file/services/#ports
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    want = ctx.backend.port
    source = ctx.backend.source
    origin = {"flag": "--backend-port", "default": "the default"}.get(source, ctx.backend.detail)
    for loc in ctx.locations:
        for target in loc.targets:
            if target.port is None or not target.is_local or target.port == want:
                continue
            if target.port in ctx.backend.also:
                continue  # another of the app's usual ports (Open WebUI: 8080, or 3000)
            if target.upstream and any(
                other.upstream == target.upstream and other.is_local and other.port == want
                for other in loc.targets
            ):
                continue  # another replica of a pool whose members include the backend's port
            stmt = target.directive
            if stmt is None:
                continue
            via = f" (upstream {target.upstream})" if target.upstream else ""
            if source == "default" and _catch_all(loc):
                # no evidence and no sign of verse: a catch-all proxy to some app on its port
                yield finding(
                    name,
                    Severity.warning,
                    loc,
                    (stmt.file, stmt.line),
                    f"{loc.label} forwards to {target.host}:{target.port}{via}; 7776 (verse's "
                    "port) is only the default and nothing says the backend is verse: give "
                    "--app NAME (`versectl apps`), --backend-port or --compose",
                    None,
                )
                continue
            yield finding(
                name,
                Severity.error,
                loc,
                (stmt.file, stmt.line),
                f"{loc.label} forwards to {target.host}:{target.port}{via}, but the backend "
                f"listens on {want} ({origin})",
                _fixed(stmt.render(), target, want),
            )


def _catch_all(loc: CheckedLocation) -> bool:
    """`location /`, or no location at all: it serves every app alike, verse's /api or not."""
    location = loc.match.location
    return location is None or tuple(location.args) == ("/",)


def _fixed(rendered: str, target: Target, port: int) -> str:
    """The statement with the target's port replaced (an implicit :80 gets an explicit port)."""
    host = re.escape(target.host or "")
    explicit = re.compile(rf"({host}):{target.port}\b")
    if explicit.search(rendered):
        return explicit.sub(rf"\g<1>:{port}", rendered, count=1)
    return re.sub(rf"(//|\s)({host})(?=[/;\s])", rf"\g<1>\g<2>:{port}", rendered, count=1)
