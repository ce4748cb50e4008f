"""stale-reload: a config file changed after the running nginx loaded its configuration, so
what is checked here is not what serves the traffic."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import RuleContext, finding
from versectl.nginx.rules.family import Family

name = "stale-reload"
severity = Severity.warning
family = Family.machine
summary = "a config file is newer than the running nginx's workers (not reloaded)"
explain = """\
## What it does
Finds the nginx that runs this configuration (its `pid` file, /run/nginx.pid by default, and
/proc), takes the start time of its worker processes (nginx replaces them on every reload)
and compares it with the modification time of every config file read. Skipped with
`--offline`, for `nginx -T` text on stdin, and when no nginx runs this config.

## Why it breaks streaming
nginx reads its configuration at start and on reload only. An edited file (`proxy_buffering
off;` added) changes nothing until `nginx -s reload`: the stream stays buffered, the check of
the file says it is fine, and the fix looks like it did not work.

## Example
```console
$ sudo vi /etc/nginx/sites-available/verse      # add proxy_buffering off;
$ curl -N ...                                    # still one piece at the end
```

## Use instead
```console
$ sudo nginx -t && sudo nginx -s reload          # or: systemctl reload nginx
```

## References
- https://nginx.org/en/docs/control.html ("Changing Configuration")
- proc(5): /proc/PID/stat field 22, starttime
"""


def check(ctx: RuleContext) -> Iterable[Finding]:
    config = ctx.config
    if ctx.offline or config.origin == "stdin":
        return
    running = ctx.running_nginx(config)
    if running is None:
        return
    pid, loaded_at = running
    for path in config.files:
        try:
            modified = Path(path).stat().st_mtime
        except OSError:
            continue
        if modified > loaded_at + _CLOCK_SLACK:
            yield finding(
                name,
                Severity.warning,
                None,
                (path, 1),
                f"changed at {_clock(modified)}, after nginx (pid {pid}) loaded its config at "
                f"{_clock(loaded_at)}: the running nginx does not use this version yet; "
                "run `nginx -t && nginx -s reload`",
                None,
            )


# a process start time from /proc is good to a clock tick, but a file saved in the same second
# as a reload (versectl fix --reload) must not count as newer
_CLOCK_SLACK = 1.0


def _clock(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))
