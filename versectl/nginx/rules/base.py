"""What a rule is (declarative attributes + one `check` hook) and what it is given to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from versectl.nginx.backend_port import BackendPort
from versectl.nginx.clients import ALL_CLIENTS, ClientKind, ordered
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model import Effective, LocationMatch, ServerListeners, Target
from versectl.nginx.rules.family import Family

EXPLAIN_SECTIONS = (
    "What it does",
    "Why it breaks streaming",
    "Example",
    "Use instead",
    "References",
)


@dataclass(frozen=True)
class CheckedLocation:
    """A selected location and what the rules need to know about it."""

    match: LocationMatch
    uris: tuple[str, ...]
    """Every requested URI that selects this location in this server."""
    settings: Effective
    variants: tuple[Effective, ...]
    """`settings`, then the settings in force when each `if` block of the location applies."""
    targets: tuple[Target, ...]
    listeners: ServerListeners
    """The server's listeners: which kinds of client can reach this location."""

    @property
    def clients(self) -> tuple[ClientKind, ...]:
        """The kinds of client that reach this location (every kind when the model knows of
        none, e.g. only nginx 1.22's HTTP/2-only plain listeners)."""
        return self.listeners.clients or ALL_CLIENTS

    @property
    def label(self) -> str:
        """`location /api (site.conf:5)`: how messages name it."""
        loc = self.match.location
        if loc is None:
            return "server"
        return f"location {' '.join(loc.args)} ({loc.file.rsplit('/', 1)[-1]}:{loc.line})"

    @property
    def file(self) -> str:
        loc = self.match.location or self.match.server
        return loc.file

    @property
    def line(self) -> int:
        loc = self.match.location or self.match.server
        return loc.line


@dataclass
class RuleContext:
    """Everything a rule may look at. Live probes are functions so tests can replace them."""

    config: LoadedConfig
    locations: list[CheckedLocation]
    unmatched: list[LocationMatch]
    """Server/URI pairs where no location matches."""
    uris: tuple[str, ...]
    backend: BackendPort
    heartbeat: float
    offline: bool
    connect: Callable[[str, int], bool]
    """TCP connect with a short timeout: True when something accepts."""
    running_nginx: Callable[[LoadedConfig], tuple[int, float] | None]
    """(master pid, start time as a Unix timestamp) of the nginx running this config, if any."""
    server_name: str | None = None
    selected: tuple[ServerListeners, ...] | None = None
    """With --host/--port: the server(s) that request reaches and their listeners (None: all)."""
    notes: list[str] = field(default_factory=list)
    """Remarks for the report that are not findings (a probe skipped, and why)."""
    websockets: list[CheckedLocation] = field(default_factory=list)
    """The locations serving the app's WebSocket paths (--app: Open WebUI's Socket.IO)."""
    websocket_ping: float = 25.0
    """Seconds between the WebSocket's own pings: the longest silence on it."""


class Rule(Protocol):
    """A rule module: `name`, `severity`, `family`, `summary`, `explain` (the sections) and
    `check`."""

    name: str
    severity: Severity
    family: Family
    summary: str
    explain: str

    def check(self, ctx: RuleContext) -> Iterable[Finding]: ...


def finding(
    rule: str,
    severity: Severity,
    loc: CheckedLocation | None,
    where: tuple[str, int],
    message: str,
    fix: str | None = None,
    clients: Iterable[ClientKind] | None = None,
) -> Finding:
    """A Finding about `loc` (None: about the config as a whole) at `where` (file, line),
    affecting `clients` (default: every kind that reaches `loc`)."""
    if clients is None:
        clients = loc.clients if loc is not None else ALL_CLIENTS
    return Finding(
        rule=rule,
        severity=severity,
        file=where[0],
        line=where[1],
        message=message,
        fix=fix,
        uri=loc.uris[0] if loc is not None else None,
        location_file=loc.file if loc is not None else None,
        location_line=loc.line if loc is not None else None,
        clients=ordered(clients),
    )


Judge = Callable[[CheckedLocation, Effective, int], Finding | None]


def first_variant(loc: CheckedLocation, judge: Judge) -> Iterable[Finding]:
    """The location's own finding; else the first `if` block whose settings produce one.
    (`judge(location, settings, variant_index)`.)"""
    for index, settings in enumerate(loc.variants):
        found = judge(loc, settings, index)
        if found is not None:
            yield found
            return
