"""Rendering of `versectl check nginx`: a report grouped by server and location, with every
effective value and where it came from, each finding with file:line and its fix; or JSON."""

from __future__ import annotations

from versectl.nginx.check import CheckResult
from versectl.nginx.clients import names as client_names
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import cyclic_gc_paused
from versectl.nginx.model import Effective, Target
from versectl.nginx.model.select import server_names as server_names_of
from versectl.nginx.rules.base import CheckedLocation
from versectl.nginx.rules.conditions import module_prefix
from versectl.report.check_json import check_json
from versectl.report.output import (
    OutputFormat,
    emit_json,
    print_warning,
    stdout_console,
    write_plain,
)
from versectl.report.styled import Styled, surely_plain

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MARK = {"error": "x", "warning": "!", "info": "i"}


@cyclic_gc_paused()  # a report on 150,000 servers: see load.py
def render_check(result: CheckResult, output_format: OutputFormat, *, heartbeat: float) -> None:
    del heartbeat  # the findings already say what it was compared with
    for note in result.notes:
        print_warning(note)
    if output_format == OutputFormat.json:
        emit_json(check_json(result))
        return
    # collected, then printed once: rich's per-print cost matters for a config with 500 servers
    out = Styled()
    _header(out, result)
    by_location: dict[tuple[str | None, int | None], list[Finding]] = {}
    for found in result.findings:
        by_location.setdefault((found.location_file, found.location_line), []).append(found)
    for loc in result.locations:
        _location(out, loc, by_location.pop((loc.file, loc.line), []))
    rest = [f for group in by_location.values() for f in group]
    if rest:
        out.append("configuration\n", style="bold")
        for found in rest:
            _finding(out, found, "  ")
        out.append("\n")
    _summary(out, result)
    if surely_plain():
        write_plain(out.plain)
        return
    console = stdout_console()
    if console.color_system is None:
        # NO_COLOR or a dumb terminal: rich would only strip the styles, slowly for 500 servers
        write_plain(out.plain)
    else:
        console.print(out.to_rich(), soft_wrap=True, end="")


def _header(out: Styled, result: CheckResult) -> None:
    config = result.config
    files = len(config.files)
    source = {"flag": "--backend-port", "default": "default"}.get(
        result.backend.source, f"{result.backend.source}: {result.backend.detail}"
    )
    if result.backend.app not in (None, "verse"):
        source += f"; app {result.backend.app}"
    out.append("check nginx ", style="bold")
    out.append(
        f"{config.main_file} ({files} file{'s' if files != 1 else ''}, {config.origin}); "
        f"backend port {result.backend.port} ({source})\n"
    )
    if result.selection is not None:
        request = f"Host {result.options_host}" if result.options_host else "a request without Host"
        for choice in result.selection:
            names = " ".join(n or '""' for n in server_names_of(choice.server))
            out.append(f"{request} on {choice.listener.text} reaches ", style="bold")
            out.append(f"server {names} ({_short(choice.server.file)}:{choice.server.line})")
            out.append(f": {choice.reason}\n", style="dim")
    reasons = result.partial_reasons
    if reasons:
        one = len(reasons) == 1
        count = "1 included file" if one else f"{len(reasons)} included files"
        what = "what it sets" if one else "what they set"
        out.append(
            f"partial verdict: {count} not found, {what} is unknown (missing-include)\n",
            style="yellow",
        )
    if config.site_level:
        out.append(
            "a site file on its own: what nginx.conf itself sets in http{} is not seen "
            "(such settings show as defaults here)\n",
            style="dim",
        )
    out.append("\n")


def _location(out: Styled, loc: CheckedLocation, findings: list[Finding]) -> None:
    match = loc.match
    names = " ".join(n or '""' for n in match.server_names)
    location = match.location
    title = " ".join(location.args) if location is not None else "(none)"
    out.append("server ", style="bold")
    out.append(names)
    out.append(
        f" (listen {', '.join(match.listen)}, {_short(match.server.file)}:{match.server.line})\n",
        style="dim",
    )
    out.append(f"  listeners {loc.listeners.describe()}\n", style="dim")
    reach = loc.listeners.clients
    if reach:
        out.append(f"  reached by {client_names(reach)}\n", style="dim")
    else:  # only plain `listen ... http2`: nginx 1.22 speaks HTTP/2 with prior knowledge there
        out.append(
            "  reached by no HTTP/1.1 client or browser: nginx 1.22 speaks only HTTP/2 with "
            "prior knowledge on a plain `listen ... http2` (add `ssl`, or drop `http2`)\n",
            style="yellow",
        )
    _defaults(out, loc)
    out.append(f"  location {title}", style="bold")
    out.append(f" {_short(loc.file)}:{loc.line}", style="dim")
    out.append(f"  <- {', '.join(loc.uris)}\n")
    settings = loc.settings
    handler = settings.handler()
    if handler is None:
        out.append("    forwards nowhere (no proxy_pass)\n", style="dim")
    else:
        targets = ", ".join(_target(t) for t in loc.targets) or "?"
        out.append(f"    {handler.describe()} -> {targets}\n")
        for name in _shown(settings, module_prefix(settings)):
            out.append(f"    {settings[name].describe()}\n", style="dim")
    if not findings:
        out.append("    no findings\n", style="green")
    for found in findings:
        _finding(out, found, "    ")
    out.append("\n")


def _defaults(out: Styled, loc: CheckedLocation) -> None:
    """Where servers share an address:port: who gets requests by IP or an unknown name (the
    address:port's default server), since a test by IP then judges another server."""
    for listener in loc.listeners.listeners:
        if len(listener.servers) < 2:
            continue
        why = "default_server" if listener.explicit_default else "first server"
        if loc.listeners.is_default(listener):
            out.append(
                f"  {why} of {listener.text}: requests by IP or an unknown name reach this server\n",
                style="dim",
            )
        else:
            other = listener.default_server
            names = " ".join(n or '""' for n in server_names_of(other))
            out.append(
                f"  on {listener.text} requests by IP or an unknown name reach server {names} "
                f"({_short(other.file)}:{other.line}, its {why}), not this one\n",
                style="dim",
            )


def _shown(settings: Effective, prefix: str | None) -> list[str]:
    """The settings that decide streaming, for this location's upstream module."""
    buffered = prefix not in (None, "grpc")
    names: list[str] = [f"{prefix}_buffering"] if buffered else []
    if prefix == "proxy":
        names.append("proxy_http_version")
    if prefix is not None:
        names.append(f"{prefix}_read_timeout")
    if buffered:
        names.append(f"{prefix}_cache")
    names.append("gzip")
    if settings["gzip"].value.lower() == "on":
        names.append("gzip_types")
    if buffered and settings[f"{prefix}_ignore_headers"].directives:
        names.append(f"{prefix}_ignore_headers")
    return names


def _target(target: Target) -> str:
    if target.unresolved:
        return target.unresolved
    if target.unix:
        return f"unix:{target.unix}"
    return f"{target.host}:{target.port}"


def _finding(out: Styled, found: Finding, indent: str) -> None:
    severity = found.severity.value
    out.append(indent)
    out.append(f"{_MARK[severity]} {severity} ", style=_STYLE[severity])
    out.append(found.rule, style="bold")
    out.append(f" {_short(found.file)}:{found.line}", style="dim")
    out.append(f"  for {client_names(found.clients)}\n", style="dim")
    out.append(f"{indent}  {found.message}\n")
    if found.fix:
        first, *more = found.fix.splitlines()
        out.append(f"{indent}  ")
        out.append("fix: ", style="green")
        out.append(f"{first}\n")
        for line in more:
            out.append(f"{indent}       {line}\n")


def _summary(out: Styled, result: CheckResult) -> None:
    per_server = result.per_server()
    if len(per_server) > 1:
        for loc, counts in per_server:
            server = loc.match.server
            names = " ".join(n or '""' for n in loc.match.server_names)
            out.append(f"server {names} ({_short(server.file)}:{server.line}): ")
            _counts(out, counts)
        out.append("all servers: ")
    counts = result.summary()
    _counts(out, counts)
    if counts["error"] or counts["warning"]:
        out.append("`versectl explain RULE` says why and what to write instead.\n", style="dim")


def _counts(out: Styled, counts: dict[str, int]) -> None:
    for index, severity in enumerate(Severity):
        n = counts[severity.value]
        if index:
            out.append(", ")
        out.append(
            f"{n} {severity.value}{'s' if n != 1 else ''}",
            style=_STYLE[severity.value] if n else "dim",
        )
    out.append("\n")


def _short(path: str) -> str:
    # not Path(path).name: a Path per finding was 6 % of the report on 150,000 servers
    return path.rpartition("/")[2]
