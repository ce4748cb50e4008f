"""`run_check`: select the locations for the URIs, compute their effective settings, run every
rule of the catalog, and return the findings with what the report and JSON need."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from versectl.defaults import CHAT_URIS, HEARTBEAT_S
from versectl.nginx import live
from versectl.nginx.backend_port import BackendPort, resolve_backend_port
from versectl.nginx.directive import Directive
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import LoadedConfig, cyclic_gc_paused
from versectl.nginx.model import (
    Effective,
    ListenerModel,
    LocationMatch,
    ServerListeners,
    Target,
    resolve_handler,
    select_locations,
    servers,
    upstreams,
    variants,
)
from versectl.nginx.model.variables import literal_sets
from versectl.nginx.port_evidence import weigh
from versectl.nginx.rules.base import CheckedLocation, RuleContext

if TYPE_CHECKING:
    from versectl.apps.profile import AppProfile
    from versectl.nginx.model.server_select import ServerChoice

DEFAULT_URIS = CHAT_URIS
DEFAULT_HEARTBEAT = HEARTBEAT_S


@dataclass(frozen=True)
class CheckOptions:
    """The knobs of `versectl check nginx` (CONTRACT.md)."""

    uris: tuple[str, ...] = DEFAULT_URIS
    server_name: str | None = None
    backend_port: int | None = None
    compose: str | None = None
    heartbeat: float = DEFAULT_HEARTBEAT
    offline: bool = False
    connect: Callable[[str, int], bool] = live.can_connect
    running_nginx: Callable[[LoadedConfig], tuple[int, float] | None] = live.running_nginx
    host: str | None = None
    """`--host`: judge only the server(s) a request with this Host/SNI reaches."""
    port: tuple[str | None, int] | None = None
    """`--port [ADDRESS:]PORT`: only the listener(s) of that port (with --host or alone)."""
    app: AppProfile | None = None
    """--app (or the app a compose file runs): its port when nothing more precise says one."""
    tls: bool | None = None
    """Only listeners that speak TLS (True) or plain HTTP (False): the scheme of doctor's URL
    (all listeners where none of the selected ones does)."""


@dataclass(frozen=True)
class CheckResult:
    """What `check nginx` found (its JSON document: versectl.report.check_json)."""

    config: LoadedConfig
    backend: BackendPort
    locations: tuple[CheckedLocation, ...]
    unmatched: tuple[LocationMatch, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = field(default=())
    selection: tuple[ServerChoice, ...] | None = None
    """With --host/--port: the server(s) that request reaches, and why."""
    options_host: str | None = None
    """The --host the selection is for (normalized), None for a request without Host."""

    @property
    def files(self) -> tuple[str, ...]:
        return self.config.files

    @property
    def backend_port(self) -> int:
        return self.backend.port

    @property
    def backend_port_source(self) -> str:
        return self.backend.source

    @property
    def partial_reasons(self) -> tuple[str, ...]:
        """Why the verdict covers only part of the config (empty: it covers all of it)."""
        return tuple(f"{m.where}: {m.reason}" for m in self.config.missing)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def summary(self) -> dict[str, int]:
        return {s.value: self.count(s) for s in Severity}

    def per_server(self) -> list[tuple[CheckedLocation, dict[str, int]]]:
        """Each judged server (its first checked location stands for it) with the counts of
        the findings about its locations: a verdict per server, not only the pooled one."""
        first: dict[int, CheckedLocation] = {}
        server_of: dict[tuple[str, int], int] = {}
        for loc in self.locations:
            first.setdefault(id(loc.match.server), loc)
            server_of[(loc.file, loc.line)] = id(loc.match.server)
        counts = {key: {s.value: 0 for s in Severity} for key in first}
        for found in self.findings:
            if found.location_file is None or found.location_line is None:
                continue
            key = server_of.get((found.location_file, found.location_line))
            if key is not None:
                counts[key][found.severity.value] += 1
        return [(loc, counts[key]) for key, loc in first.items()]


@cyclic_gc_paused()  # the tree, the model and the findings are millions of objects
def run_check(config: LoadedConfig, options: CheckOptions) -> CheckResult:
    """Evaluate `config` for `options.uris` with every rule of the catalog."""
    from versectl.nginx.rules import RULES

    backend = resolve_backend_port(options.backend_port, options.compose, options.app)
    model = ListenerModel(servers(config))
    selection = _selection(model, options)
    only = None if selection is None else [choice.server for choice in selection]
    uris, subpath_notes = _app_uris(config, options, only)
    matches = select_locations(config, uris, options.server_name, only)
    locations = checked_locations(config, matches, model)

    def select(uris: tuple[str, ...]) -> list[CheckedLocation]:
        found = select_locations(config, uris, options.server_name, only)
        return checked_locations(config, found, model)

    backend, evidence_notes = weigh(
        backend, locations, select, offline=options.offline, connect=options.connect
    )
    app = options.app
    sockets: list[CheckedLocation] = []
    if app is not None and app.websockets:
        found = select_locations(config, app.websockets, options.server_name, only)
        sockets = checked_locations(config, found, model)
    ctx = RuleContext(
        config=config,
        locations=locations,
        unmatched=[m for m in matches if m.location is None],
        uris=uris,
        backend=backend,
        heartbeat=options.heartbeat,
        offline=options.offline,
        connect=options.connect,
        running_nginx=options.running_nginx,
        server_name=options.server_name,
        websockets=sockets,
        websocket_ping=(app.websocket_ping or app.heartbeat) if app is not None else 25.0,
        selected=_selected(model, only),
    )
    ctx.notes.extend([*subpath_notes, *evidence_notes])
    findings: list[Finding] = []
    for rule in RULES:
        findings += rule.check(ctx)
    # a statement shared by several selected locations (an http-level default, one upstream)
    # is reported once, at its own position
    unique = list({(f.rule, f.file, f.line, f.message): f for f in findings}.values())
    unique.sort(key=lambda f: (f.severity.rank, f.file, f.line, f.rule))
    return CheckResult(
        config=config,
        backend=backend,
        locations=tuple(locations),
        unmatched=tuple(ctx.unmatched),
        findings=tuple(unique),
        notes=tuple(ctx.notes),  # missing includes are findings (missing-include)
        selection=selection,
        options_host=_normalized_host(options.host),
    )


def _app_uris(
    config: LoadedConfig, options: CheckOptions, only: list[Directive] | None
) -> tuple[tuple[str, ...], list[str]]:
    """The URIs to judge: with the app's own URIs (no --uri), those under the subpath the app
    is served at, when it is served under one (`location /chatgpt/api`)."""
    from versectl.apps.subpath import app_prefix

    app = options.app
    if app is None or options.uris != app.uris:
        return options.uris, []
    prefix = app_prefix(
        config, app.uris, lambda u: select_locations(config, u, options.server_name, only)
    )
    if prefix is None:
        return options.uris, []
    uris = tuple(prefix + uri for uri in app.uris)
    note = (
        f"{app.title} is served under {prefix} here: judged {', '.join(uris)} "
        "(--uri to choose others)"
    )
    return uris, [note]


def _selected(
    model: ListenerModel, only: list[Directive] | None
) -> tuple[ServerListeners, ...] | None:
    """The selected servers (once each, a server may be reached on several listeners)."""
    if only is None:
        return None
    return tuple(model.for_server(s) for s in {id(s): s for s in only}.values())


def _selection(model: ListenerModel, options: CheckOptions) -> tuple[ServerChoice, ...] | None:
    """The servers a request for --host/--port reaches (one per listener), or None: all."""
    if options.host is None and options.port is None:
        return None
    # here: choosing the server is a module (and two dataclasses) that only --host/--port
    # (and doctor's URL) need
    from versectl.nginx.model.server_select import reached_servers

    return reached_servers(model, options.host, options.port, options.tls)


def _normalized_host(host: str | None) -> str | None:
    if host is None:
        return None
    from versectl.nginx.model.server_select import normalize_host  # here: see _selection

    return normalize_host(host)


def checked_locations(
    config: LoadedConfig, matches: list[LocationMatch], listeners: ListenerModel | None = None
) -> list[CheckedLocation]:
    """One entry per (server, location) actually selected, with all URIs that select it."""
    ups = upstreams(config)
    listeners = listeners or ListenerModel(servers(config))
    grouped: dict[tuple[int, int], list[LocationMatch]] = {}
    for match in matches:
        if match.location is not None:
            grouped.setdefault((id(match.server), id(match.chain[-1])), []).append(match)
    result: list[CheckedLocation] = []
    for group in grouped.values():
        first = group[0]
        settings = Effective(first.chain)
        handler = settings.handler()
        targets: tuple[Target, ...] = ()
        if handler is not None:
            values = literal_sets(first.chain)
            targets = tuple(resolve_handler(handler.directives[-1], ups, values))
        result.append(
            CheckedLocation(
                match=first,
                uris=tuple(m.uri for m in group),
                settings=settings,
                variants=tuple(Effective(chain) for chain in variants(first.chain)),
                targets=targets,
                listeners=listeners.for_server(first.server),
            )
        )
    return result
