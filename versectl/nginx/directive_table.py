"""The one table of the nginx directives versectl reasons about: kind, nginx 1.22's default,
inheritance (array or replace) and module; the model, the rules and fix all read it. Also the
one place for what nginx does with X-Accel-Buffering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["flag", "time", "size", "list", "value"]

MODULES = ("proxy", "grpc", "uwsgi", "fastcgi", "scgi", "memcached")
"""The upstream modules, in the order a location's content handler is looked for."""


@dataclass(frozen=True, slots=True)
class Spec:
    """What one directive is to nginx."""

    name: str
    kind: Kind
    """flag: on/off (case-insensitive); time: `60s`, `1h`; size: `4k`; list: several values."""
    default: tuple[str, ...] | None
    """nginx 1.22's compiled-in value (the docs' "Default:" line); None: none to speak of."""
    array: bool = False
    """Statements add up, and the innermost level with any replaces the outer ones wholesale
    (proxy_set_header, add_header, ...); else the last statement of the innermost level counts."""
    keyed: bool = False
    """One setting per first argument, compared case-insensitively (a header name)."""
    module: str | None = None


_BUFFERED = ("proxy", "uwsgi", "fastcgi", "scgi")
"""The modules that buffer a response (and can cache it); grpc and memcached never do."""
_HEADERS = (*_BUFFERED, "grpc")
_PARAMS = ("uwsgi", "fastcgi", "scgi")

# suffix of `<module>_...`, kind, default, array, the modules that have it
_PER_MODULE: tuple[tuple[str, Kind, tuple[str, ...] | None, bool, tuple[str, ...]], ...] = (
    ("pass", "value", None, False, MODULES),
    ("read_timeout", "time", ("60s",), False, MODULES),
    ("send_timeout", "time", ("60s",), False, MODULES),
    ("connect_timeout", "time", ("60s",), False, MODULES),
    ("buffer_size", "size", ("4k|8k",), False, MODULES),
    ("buffering", "flag", ("on",), False, _BUFFERED),
    ("request_buffering", "flag", ("on",), False, _BUFFERED),
    ("buffers", "list", ("8", "4k|8k"), False, _BUFFERED),
    ("max_temp_file_size", "size", ("1024m",), False, _BUFFERED),
    # `off` or a zone name; nginx compares `off` case-sensitively (ngx_strcmp), unlike a flag
    ("cache", "value", ("off",), False, _BUFFERED),
    ("cache_methods", "list", ("GET", "HEAD"), True, _BUFFERED),
    ("cache_valid", "list", None, True, _BUFFERED),
    ("cache_bypass", "list", None, True, _BUFFERED),
    ("no_cache", "list", None, True, _BUFFERED),
    ("ignore_headers", "list", None, True, _BUFFERED),
    ("hide_header", "list", None, True, _HEADERS),
    ("pass_header", "list", None, True, _HEADERS),
    ("param", "list", None, True, _PARAMS),
    ("http_version", "value", ("1.0",), False, ("proxy",)),
    ("keep_conn", "flag", ("off",), False, ("fastcgi",)),
)

_OTHERS: tuple[Spec, ...] = (
    Spec("proxy_set_header", "list", None, array=True, keyed=True, module="proxy"),
    Spec("grpc_set_header", "list", None, array=True, keyed=True, module="grpc"),
    Spec("add_header", "list", None, array=True, keyed=True),
    Spec("add_trailer", "list", None, array=True, keyed=True),
    Spec("gzip", "flag", ("off",)),
    Spec("gzip_types", "list", ("text/html",), array=True),
    Spec("gzip_proxied", "list", ("off",)),
    Spec("gzip_http_version", "value", ("1.1",)),
    Spec("gunzip", "flag", ("off",)),
    Spec("brotli", "flag", ("off",)),
    Spec("chunked_transfer_encoding", "flag", ("on",)),
    Spec("postpone_output", "size", ("1460",)),
    Spec("ssi", "flag", ("off",)),
    Spec("ssi_types", "list", None, array=True),
    Spec("sub_filter_types", "list", ("text/html",), array=True),
    Spec("keepalive_timeout", "time", ("75s",)),
    Spec("send_timeout", "time", ("60s",)),
    Spec("ssl", "flag", ("off",)),
    Spec("ssl_buffer_size", "size", ("16k",)),
    Spec("http2", "flag", ("off",)),
)

TABLE: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        *(
            Spec(f"{module}_{suffix}", kind, default, array=array, module=module)
            for suffix, kind, default, array, modules in _PER_MODULE
            for module in modules
        ),
        *_OTHERS,
    )
}

DEFAULTS: dict[str, tuple[str, ...]] = {
    name: spec.default for name, spec in TABLE.items() if spec.default is not None
}
ARRAY_DIRECTIVES = frozenset(name for name, spec in TABLE.items() if spec.array)
HANDLERS: dict[str, str] = {f"{module}_pass": module for module in MODULES}
"""Content handler -> module prefix, in the order a location's handler is looked for."""


def of_kind(kind: Kind) -> frozenset[str]:
    """The directives of one kind (fix compares flags and times in a normal form)."""
    return frozenset(name for name, spec in TABLE.items() if spec.kind == kind)


def module_directive(module: str, suffix: str) -> str | None:
    """`<module>_<suffix>` when that module has it (grpc has no `_buffering`), else None."""
    name = f"{module}_{suffix}"
    return name if name in TABLE else None


ACCEL_BUFFERING = "x-accel-buffering"
ACCEL_ONLY_IN_RESPONSE = "nginx obeys X-Accel-Buffering only in the backend's response"
"""Measured (tests/nginx truth): `proxy_set_header`/`add_header X-Accel-Buffering` change
nothing; only the header in the backend's answer switches buffering off."""


def sets_accel_buffering(name: str, args: tuple[str, ...] | list[str]) -> bool:
    """`proxy_set_header X-Accel-Buffering ...` or `add_header X-Accel-Buffering ...`."""
    return (
        name in ("proxy_set_header", "add_header")
        and bool(args)
        and (args[0].lower() == ACCEL_BUFFERING)
    )
