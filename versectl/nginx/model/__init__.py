"""What nginx does with a request: listeners, location selection, effective settings, backend
targets."""

from __future__ import annotations

from versectl.nginx.directive_table import ARRAY_DIRECTIVES, DEFAULTS
from versectl.nginx.model.effective import (
    Effective,
    Setting,
    effective,
    variants,
)
from versectl.nginx.model.listeners import (
    Listen,
    Listener,
    ListenerModel,
    ServerListeners,
    parse_address,
    parse_listen,
)
from versectl.nginx.model.select import (
    LocationMatch,
    LocationPattern,
    find_location,
    location_pattern,
    select_locations,
    server_name_matches,
    servers,
)
from versectl.nginx.model.targets import Target, resolve_handler, upstreams
from versectl.nginx.model.timeunits import format_seconds, parse_size, parse_time

__all__ = [
    "ARRAY_DIRECTIVES",
    "DEFAULTS",
    "Effective",
    "Listen",
    "Listener",
    "ListenerModel",
    "LocationMatch",
    "LocationPattern",
    "ServerListeners",
    "Setting",
    "Target",
    "effective",
    "find_location",
    "format_seconds",
    "location_pattern",
    "parse_address",
    "parse_listen",
    "parse_size",
    "parse_time",
    "resolve_handler",
    "select_locations",
    "server_name_matches",
    "servers",
    "upstreams",
    "variants",
]
