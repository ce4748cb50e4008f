"""missing-include: an `include`d file is not there (a config copied without its snippets), so
what it would have set is unknown and the verdict is partial."""

from __future__ import annotations

from collections.abc import Iterable

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "missing-include"
# machine: the config checked differs from the one on the server (a file it has is missing here).
family = Family.machine
severity = Severity.warning
summary = "an included file is not there: what it sets is unknown, the verdict is partial"
explain = """\
## What it does
Reports every `include` of a single file that is not there: an absolute path such as
certbot's `/etc/letsencrypt/options-ssl-nginx.conf`, SWAG's `/config/nginx/ssl.conf` or Nginx
Proxy Manager's `/etc/nginx/conf.d/include/resolvers.conf`, or a relative one (`mime.types`)
found neither next to the file nor in the guessed nginx prefix. The check goes on without it
and says its verdict is partial (JSON: `partial: true` and `partial_reasons`). An include glob
that matches nothing is fine, as it is for nginx. A file that is there but cannot be read is
not this rule: that stops the check (exit 2), since it may well be the one that matters.

## Why it breaks streaming
The missing file may set exactly what decides streaming: `proxy_buffering on`, `gzip on` with
`text/event-stream` in `gzip_types`, a short `proxy_read_timeout`, `proxy_cache`. Findings and
"no findings" below it describe the config without those lines; on the server the file exists
and nginx applies it.

## Example
```nginx
server {
    listen 443 ssl;
    include /etc/letsencrypt/options-ssl-nginx.conf;   # on the server only
    location /api { proxy_pass http://127.0.0.1:7776; }
}
```

## Use instead
Check the config where it runs, with every file nginx reads:
```console
$ sudo nginx -T | versectl check nginx -
```
or copy the included files along, at the same paths relative to the config.

## References
- https://nginx.org/en/docs/ngx_core_module.html#include
- nginx(8): `-T` tests the configuration and dumps it, included files and all
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    for missing in ctx.config.missing:
        yield finding(
            name,
            Severity.warning,
            None,
            (missing.file, missing.line),
            f"{missing.reason}; what it would have set is unknown, so this verdict is partial",
            None,
        )
