"""proxy-cache: a cache applies to the chat POST, so a later question gets an old answer."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.model import Effective
from versectl.nginx.rules.base import CheckedLocation, RuleContext, finding, first_variant
from versectl.nginx.rules.conditions import anchor, buffering_on, module_prefix
from versectl.nginx.rules.family import Family

name = "proxy-cache"
severity = Severity.error
family = Family.cache
summary = "a response cache applies to the chat request (POST)"
explain = """\
## What it does
Finds chat locations where `proxy_cache` (or uwsgi_/fastcgi_/scgi_cache) names a zone and
`proxy_cache_methods` includes POST, the method chat requests use. It is an error when
`proxy_cache_valid` (or ignoring Cache-Control/Expires) makes nginx store answers whatever the
backend says, a warning when storing depends on the backend's caching headers.

## Why it breaks streaming
The cache key (`$scheme$proxy_host$request_uri` by default) does not include the request body:
every question to /api/chat/message has the same key. Measured on nginx 1.22: the second chat
request, with a different message, is answered at once from the cache with the FIRST reply, and
the backend never sees it. nginx caches only buffered responses: `proxy_buffering off` (or the
backend's `X-Accel-Buffering: no`) also stops the caching. `proxy_cache off;` is the default;
writing it changes nothing unless a cache is enabled at an outer level.

## Example
```nginx
proxy_cache_path /var/cache/nginx keys_zone=api:10m;
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_cache api;
    proxy_cache_methods GET HEAD POST;
    proxy_cache_valid 200 10m;
}
```

## Use instead
```nginx
location /api {
    proxy_pass http://127.0.0.1:7776;
    proxy_cache off;
    proxy_buffering off;
}
```

## References
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_methods
- https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_cache_key
"""

_FORCING_HEADERS = {"cache-control", "expires", "x-accel-expires", "set-cookie", "vary"}


def check(ctx: RuleContext) -> Iterable[Finding]:
    for loc in ctx.locations:
        yield from first_variant(loc, _judge)


def _judge(loc: CheckedLocation, settings: Effective, _index: int) -> Finding | None:
    prefix = module_prefix(settings)
    if prefix is None or prefix == "grpc":
        return None
    cache = settings[f"{prefix}_cache"]
    if cache.value.lower() in ("off", ""):
        return None
    methods = settings[f"{prefix}_cache_methods"]
    if "post" not in {arg.lower() for entry in methods.entries for arg in entry}:
        return None  # chat requests are POSTs: the cache never stores or answers them
    if not buffering_on(settings):
        return None  # nginx caches buffered responses only (measured)
    valid = settings[f"{prefix}_cache_valid"]
    ignored = {a.lower() for e in settings[f"{prefix}_ignore_headers"].entries for a in e}
    forced = bool(valid.directives) or bool(ignored & _FORCING_HEADERS)
    bypass = (
        settings[f"{prefix}_cache_bypass"].directives or settings[f"{prefix}_no_cache"].directives
    )
    level = Severity.error if forced and not bypass else Severity.warning
    why = (
        f"{valid.describe()} stores answers whatever the backend says"
        if valid.directives
        else "answers are stored whenever the backend's Cache-Control/Expires allow it"
    )
    if bypass:
        why += f"; {prefix}_cache_bypass/{prefix}_no_cache may exempt some requests"
    return finding(
        name,
        level,
        loc,
        anchor(cache, loc),
        f"{cache.describe()} with {methods.describe()} in {loc.label}: the cache key ignores the "
        f"request body, so a later chat request can get an earlier reply ({why})",
        f"{prefix}_cache off;",
    )
