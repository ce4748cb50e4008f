"""The backend's port on evidence only: when nothing says it (no --backend-port, compose file
or --app), the live machine (which port answers) or a config that plainly serves another app
decides; the bare 7776 default never turns another app's port into a port-mismatch."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from versectl.apps.profile import AppProfile, all_profiles
from versectl.nginx.backend_port import DEFAULT_PORT, BackendPort
from versectl.nginx.model import Target
from versectl.nginx.rules.base import CheckedLocation

GENERIC_PORTS = frozenset({80, 3000, 8000, 8080})
"""Ports every framework defaults to (uvicorn's 8000 is the seed's wrong port): a catch-all
`location /` forwarding there says nothing of which app it is."""

Selector = Callable[[tuple[str, ...]], list[CheckedLocation]]
"""The locations the given URIs select (as check selects them)."""


def weigh(
    backend: BackendPort,
    locations: Sequence[CheckedLocation],
    select: Selector,
    *,
    offline: bool,
    connect: Callable[[str, int], bool],
) -> tuple[BackendPort, list[str]]:
    """`backend` itself unless it is the bare default; else the port the evidence names, and
    notes for the report."""
    if backend.source != "default":
        return backend, []
    local = [
        t
        for loc in locations
        for t in loc.targets
        if t.is_local and t.port is not None and t.port != backend.port and t.host
    ]
    if not local:
        return backend, []
    if not offline:
        live = _live(backend, local, connect)
        if live is not None:
            return live, []
    for profile in all_profiles():
        if profile.name == "verse":
            continue
        port = _serves(profile, select(profile.uris))
        if port is not None:
            note = (
                f"the config forwards {profile.uris[0]} to port {port}, {profile.title}'s: "
                f"judged as {profile.name} (run with --app {profile.name} for its URIs and "
                "heartbeat, or --backend-port N)"
            )
            detail = f"recognised from the config: {profile.title} on {port}"
            found = BackendPort(port, "profile", detail, backend.candidates, profile.name)
            return found, [note]
    return backend, []


def _live(
    backend: BackendPort, targets: Sequence[Target], connect: Callable[[str, int], bool]
) -> BackendPort | None:
    """The port that answers: the config's target when it does and 7776 does not (that is
    the backend), 7776 when it does and no target does (the config points past it)."""
    answering = [t for t in targets if t.port is not None and connect(t.host or "", t.port)]
    default_answers = connect("127.0.0.1", DEFAULT_PORT)
    if answering and not default_answers:
        port = answering[0].port or DEFAULT_PORT
        detail = f"port {port} answers on this machine, {DEFAULT_PORT} does not"
        return BackendPort(port, "live", detail, backend.candidates)
    if default_answers and not answering:
        detail = f"{DEFAULT_PORT} answers on this machine, the config's target does not"
        return BackendPort(DEFAULT_PORT, "live", detail, backend.candidates)
    return None


def _serves(profile: AppProfile, locations: Sequence[CheckedLocation]) -> int | None:
    """The app's port a location selected by its URIs forwards to, when that is plain."""
    for loc in locations:
        loc_match = loc.match.location
        catch_all = loc_match is None or tuple(loc_match.args) == ("/",)
        for target in loc.targets:
            if not target.is_local or target.port not in profile.ports:
                continue
            if catch_all and target.port in GENERIC_PORTS:
                continue
            return target.port
    return None
