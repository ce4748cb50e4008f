"""What a directive sets and when two of them mean the same, for comparing blocks (the kinds
come from versectl.nginx.directive_table)."""

from __future__ import annotations

from versectl.nginx.directive_table import TABLE, of_kind
from versectl.nginx.model.timeunits import parse_time

_FLAGS = of_kind("flag")
_PER_NAME = frozenset(name for name, spec in TABLE.items() if spec.keyed)
_TIMES = of_kind("time")


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
