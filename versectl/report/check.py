"""Rendering of `versectl check nginx`: a report grouped by server and location, with every
effective value and where it came from, each finding with file:line and its fix; or JSON."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from versectl.nginx.check import CheckResult
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.rules.base import CheckedLocation
from versectl.nginx.rules.conditions import module_prefix
from versectl.report.output import OutputFormat, emit_json, print_warning, stdout_console

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_MARK = {"error": "x", "warning": "!", "info": "i"}


def render_check(result: CheckResult, output_format: OutputFormat, *, heartbeat: float) -> None:
    for note in result.notes:
        print_warning(note)
    if output_format == OutputFormat.json:
        emit_json(result.to_json())
        return
    console = stdout_console()
    _header(console, result)
    by_location: dict[tuple[str | None, int | None], list[Finding]] = {}
    for found in result.findings:
        by_location.setdefault((found.location_file, found.location_line), []).append(found)
    for loc in result.locations:
        _location(console, loc, by_location.pop((loc.file, loc.line), []), heartbeat)
    rest = [f for group in by_location.values() for f in group]
    if rest:
        console.print("[bold]configuration[/]")
        for found in rest:
            _finding(console, found)
        console.print()
    _summary(console, result)


def _header(console: Console, result: CheckResult) -> None:
    config = result.config
    files = len(config.files)
    source = {
        "flag": "--backend-port",
        "default": "default",
    }.get(result.backend.source, f"compose: {result.backend.detail}")
    console.print(
        f"[bold]check nginx[/] {escape(config.main_file)}"
        f" ({files} file{'s' if files != 1 else ''}, {escape(config.origin)}); "
        f"backend port {result.backend.port} ({escape(source)})"
    )
    if config.site_level:
        console.print(
            "[dim]a site file on its own: settings of the http{} level of nginx.conf are "
            "not seen (they show as defaults)[/]"
        )
    console.print()


def _location(
    console: Console, loc: CheckedLocation, findings: list[Finding], heartbeat: float
) -> None:
    match = loc.match
    names = " ".join(n or '""' for n in match.server_names)
    listen = ", ".join(match.listen)
    location = match.location
    title = " ".join(location.args) if location is not None else "(none)"
    console.print(
        f"[bold]server[/] {escape(names)} [dim](listen {escape(listen)}, "
        f"{escape(_short(match.server.file))}:{match.server.line})[/]"
    )
    console.print(
        f"  [bold]location {escape(title)}[/] [dim]{escape(_short(loc.file))}:{loc.line}[/]"
        f"  <- {escape(', '.join(loc.uris))}"
    )
    settings = loc.settings
    handler = settings.handler()
    if handler is None:
        console.print("    [dim]forwards nowhere (no proxy_pass)[/]")
    else:
        targets = ", ".join(_target(t.to_json()) for t in loc.targets) or "?"
        console.print(f"    {escape(handler.describe())} -> {escape(targets)}")
        for name in _shown(settings, module_prefix(settings)):
            console.print(f"    [dim]{escape(settings[name].describe())}[/]")
    if not findings:
        console.print("    [green]no findings[/]")
    for found in findings:
        _finding(console, found, indent="    ")
    console.print()


def _shown(settings: object, prefix: str | None) -> list[str]:
    from versectl.nginx.model import Effective

    assert isinstance(settings, Effective)
    names: list[str] = []
    if prefix not in (None, "grpc"):
        names += [f"{prefix}_buffering"]
    if prefix == "proxy":
        names += ["proxy_http_version"]
    if prefix is not None:
        names += [f"{prefix}_read_timeout"]
    if prefix not in (None, "grpc"):
        names += [f"{prefix}_cache"]
    names += ["gzip"]
    if settings["gzip"].value == "on":
        names += ["gzip_types"]
    if prefix not in (None, "grpc") and settings[f"{prefix}_ignore_headers"].directives:
        names += [f"{prefix}_ignore_headers"]
    return names


def _target(doc: dict[str, object]) -> str:
    if doc.get("unresolved"):
        return str(doc["unresolved"])
    if doc.get("unix"):
        return f"unix:{doc['unix']}"
    return f"{doc['host']}:{doc['port']}"


def _finding(console: Console, found: Finding, indent: str = "  ") -> None:
    style = _STYLE[found.severity.value]
    console.print(
        f"{indent}[{style}]{_MARK[found.severity.value]} {found.severity.value}[/] "
        f"[bold]{found.rule}[/] [dim]{escape(_short(found.file))}:{found.line}[/]"
    )
    console.print(f"{indent}  {escape(found.message)}")
    if found.fix:
        lines = found.fix.splitlines()
        console.print(f"{indent}  [green]fix:[/] {escape(lines[0])}")
        for line in lines[1:]:
            console.print(f"{indent}       {escape(line)}")


def _summary(console: Console, result: CheckResult) -> None:
    counts = result.summary()
    parts = []
    for severity in Severity:
        n = counts[severity.value]
        style = _STYLE[severity.value] if n else "dim"
        parts.append(f"[{style}]{n} {severity.value}{'s' if n != 1 else ''}[/]")
    console.print(", ".join(parts))
    if counts["error"] or counts["warning"]:
        console.print("[dim]`versectl explain RULE` says why and what to write instead.[/]")


def _short(path: str) -> str:
    return Path(path).name
