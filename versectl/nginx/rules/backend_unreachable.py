"""backend-unreachable: nothing accepts connections at the chat location's local target."""

from __future__ import annotations

import stat
from collections.abc import Iterable
from pathlib import Path

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "backend-unreachable"
severity = Severity.error
family = Family.routing
summary = "nothing listens at the local address the chat location forwards to"
explain = """\
## What it does
Opens a TCP connection (0.5 s timeout) to every local target of the chat locations (a `unix:`
socket: connects to it), unless `--offline`. When the target is closed but another port the
backend could be on (the compose file's published ports, 7776) accepts connections, it says
which.

## Why it breaks streaming
nginx answers 502 Bad Gateway at once; the browser shows an error instead of a stream. The
usual causes: the backend container is down or publishes another port, or it listens on a
different interface (a container bound to 127.0.0.1 inside its own network namespace).

## Example
```nginx
location /api {
    proxy_pass http://127.0.0.1:8000;   # nothing listens on 8000; the backend is on 7776
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
}
```
and check `docker compose ps` / `ss -ltnp` for what really listens.

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_pass
- ss(8): `ss -ltnp`
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    if ctx.offline:
        return
    tried: dict[tuple[str, int], bool] = {}

    def reachable(host: str, port: int) -> bool:
        if (host, port) not in tried:
            tried[(host, port)] = ctx.connect(host, port)
        return tried[(host, port)]

    for loc in ctx.locations:
        for target in loc.targets:
            stmt = target.directive
            if stmt is None:
                continue
            if target.unix is not None:
                if not _unix_accepts(target.unix):
                    yield finding(
                        name,
                        Severity.error,
                        loc,
                        (stmt.file, stmt.line),
                        f"{loc.label} forwards to unix:{target.unix}, which accepts no connection",
                    )
                continue
            if target.host is None or target.port is None or not target.is_local:
                continue
            if reachable(target.host, target.port):
                continue
            others = [
                p
                for p in (*ctx.backend.candidates, ctx.backend.port)
                if p != target.port and reachable(target.host, p)
            ]
            hint = f"; port {others[0]} accepts connections" if others else ""
            yield finding(
                name,
                Severity.error,
                loc,
                (stmt.file, stmt.line),
                f"{loc.label} forwards to {target.host}:{target.port}: nothing accepts "
                f"connections there{hint}",
                None,
            )


def _unix_accepts(path: str) -> bool:
    import socket  # here: only a unix: target connects, and --offline never does

    try:
        if not stat.S_ISSOCK(Path(path).stat().st_mode):
            return False
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(0.5)
            sock.connect(path)
            return True
    except OSError:
        return False
