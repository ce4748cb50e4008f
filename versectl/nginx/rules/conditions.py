"""Facts about a location's effective settings that several rules share: which upstream module
forwards (proxy, uwsgi, ...), whether nginx buffers the response, whether gzip applies to SSE."""

from __future__ import annotations

from dataclasses import dataclass

from versectl.nginx.clients import ClientKind
from versectl.nginx.directive import Directive
from versectl.nginx.directive_table import ACCEL_BUFFERING, HANDLERS, module_directive
from versectl.nginx.model import Effective, Setting
from versectl.nginx.rules.base import CheckedLocation


def module_prefix(settings: Effective) -> str | None:
    """`proxy`, `uwsgi`, `fastcgi`, `scgi`, `grpc`, `memcached`: the module's prefix."""
    handler = settings.handler()
    return HANDLERS.get(handler.name) if handler is not None else None


def _module_setting(settings: Effective, suffix: str) -> Setting | None:
    """The `<module>_<suffix>` setting; None without a handler or when the module has no such
    directive (grpc and memcached have no `_buffering`: they never buffer)."""
    prefix = module_prefix(settings)
    name = module_directive(prefix, suffix) if prefix is not None else None
    return settings[name] if name is not None else None


def buffering(settings: Effective) -> Setting | None:
    """The `<module>_buffering` setting; None for grpc and memcached, or no handler."""
    return _module_setting(settings, "buffering")


def buffering_on(settings: Effective) -> bool:
    setting = buffering(settings)
    return setting is not None and setting.value.lower() == "on"


def ignores_accel_buffering(settings: Effective) -> Setting | None:
    """The `*_ignore_headers` setting when it lists X-Accel-Buffering (the backend's own
    `X-Accel-Buffering: no` is then ignored), else None."""
    setting = _module_setting(settings, "ignore_headers")
    if setting is None:
        return None
    names = {arg.lower() for entry in setting.entries for arg in entry}
    return setting if ACCEL_BUFFERING in names else None


def http10_upstream(settings: Effective) -> bool:
    """nginx talks HTTP/1.0 to the backend (proxy's default): a conforming backend then sends
    a close-delimited body, which buffering holds until the end."""
    return module_prefix(settings) == "proxy" and settings["proxy_http_version"].value != "1.1"


@dataclass(frozen=True)
class GzipOnSse:
    """gzip compresses text/event-stream: `gzip on` plus a gzip_types that covers it."""

    gzip: Setting
    types: Setting


def gzip_on_event_stream(settings: Effective) -> GzipOnSse | None:
    gzip = settings["gzip"]
    if gzip.value.lower() != "on":
        return None
    types = settings["gzip_types"]
    listed = {arg.lower() for entry in types.entries for arg in entry}
    if "text/event-stream" in listed or "*" in listed:
        return GzipOnSse(gzip, types)
    return None


def variant_label(loc: CheckedLocation, index: int) -> str:
    """'' for the location itself; ' when `if (...)` at site.conf:12 matches' for a variant."""
    if index == 0:
        return ""
    block = loc.variants[index].chain[-1]
    condition = " ".join(block.args)
    return f" when `if ({condition})` at {_short(block)} matches"


def anchor(setting: Setting, loc: CheckedLocation) -> tuple[str, int]:
    """Where a finding about `setting` points: the statement that sets it, or the location
    (where the missing statement belongs) when it is a default."""
    if setting.directives:
        return setting.directives[-1].file, setting.directives[-1].line
    return loc.file, loc.line


def _short(stmt: Directive) -> str:
    return f"{stmt.file.rsplit('/', 1)[-1]}:{stmt.line}"


def tls_hold(loc: CheckedLocation) -> str | None:
    """When HTTP/1.1-over-TLS clients reach `loc`: why nginx holds a chunked, buffered answer
    for them (measured on 1.22: its TLS layer collects the body until ssl_buffer_size fills or
    the answer ends, while plain HTTP/1.1 and HTTP/2 get every chunk); else None."""
    if ClientKind.http1_1_tls not in loc.clients:
        return None
    size = loc.listeners.ssl_buffer_size
    shown = f"{size.value}, {size.origin}"
    if loc.listeners.ssl_buffer_bytes < 16384:
        return (
            f"(nginx's TLS layer sends it in bursts each time ssl_buffer_size fills: {shown}; "
            "a smaller buffer is no fix)"
        )
    return f"(nginx's TLS layer collects it until ssl_buffer_size ({shown}) fills or it ends)"
