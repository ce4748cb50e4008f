"""What a directive sets and when two of them mean the same, for comparing blocks."""

from __future__ import annotations

from versectl.nginx.model.timeunits import parse_time

_FLAGS = frozenset({"proxy_buffering", "proxy_cache", "gzip", "proxy_request_buffering"})
_PER_NAME = frozenset({"proxy_set_header", "add_header"})
_TIMES = frozenset({"proxy_read_timeout", "proxy_send_timeout", "proxy_connect_timeout"})


def directive_key(name: str, args: list[str]) -> str:
    """What a directive sets: `proxy_set_header` and `add_header` count per header name."""
    if name in _PER_NAME and args:
        return f"{name} {args[0].lower()}"
    return name


def normalized(name: str, args: list[str]) -> tuple[str, ...]:
    """A form in which equal settings compare equal: `OFF` = `off`, `3600` = `1h`, `host` = `Host`."""
    if name in _FLAGS:
        return (name, *(arg.lower() for arg in args))
    if name in _PER_NAME and args:
        return (name, args[0].lower(), *args[1:])
    if name in _TIMES and len(args) == 1:
        return (name, str(parse_time(args[0])))
    return (name, *args)
