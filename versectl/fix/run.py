"""`versectl fix` as one domain function: find the blocks, plan, and (with --write) validate,
write, back up, check again and reload. The command only parses options and renders."""

from __future__ import annotations

import difflib
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from versectl.errors import FixError, InputError, VersectlError
from versectl.fix.backup import backup_plan
from versectl.fix.candidate import verify_plan
from versectl.fix.includes import include_reader, read_config_text
from versectl.fix.plan import FilePlan, FixTarget, plan_file
from versectl.fix.shared import sharing_servers
from versectl.fix.syntax import parse
from versectl.fix.targets import find_targets
from versectl.fix.validate import (
    NGINX_TIMEOUT,
    MainConfig,
    choose_main_config,
    find_nginx,
    validate,
)
from versectl.fix.write import WriteResult, write_fixed
from versectl.nginx.backend_port import BackendPort, resolve_backend_port
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.load import LoadedConfig, load_config
from versectl.nginx.model import upstreams


@dataclass(frozen=True)
class FixOptions:
    """The knobs of `versectl fix` (CONTRACT.md, plus --uri, --server-name, --nginx-conf)."""

    path: Path | None
    uris: tuple[str, ...]
    write: bool = False
    backend_port: int | None = None
    compose: str | None = None
    backup: bool = True
    nginx: str | None = None
    reload: bool = False
    server_name: str | None = None
    nginx_conf: Path | None = None
    force: bool = False
    """Change a block several servers share (a snippet they all include)."""
    host: str | None = None
    """--host: fix the server a request with this Host/SNI reaches (check's selection)."""
    port: tuple[str | None, int] | None = None
    """--port [ADDRESS:]PORT: the listener that request arrives on."""


@dataclass(frozen=True)
class ReloadResult:
    """`nginx -s reload`: the signal was sent (ok) or not, and what nginx said."""

    ok: bool
    command: list[str]
    output: str


@dataclass
class FixOutcome:
    """Everything the report needs."""

    path: Path
    plan: FilePlan
    backend: BackendPort
    diff: str
    main: MainConfig
    binary: str | None
    written: WriteResult | None = None
    backup_hidden_because: list[str] = field(default_factory=list)
    errors_after: int | None = None
    """check nginx errors left for the fixed file's locations after the write (None: not run)."""
    reload: ReloadResult | None = None
    notes: list[str] = field(default_factory=list)


def run_fix(options: FixOptions, now: datetime | None = None) -> FixOutcome:
    """Plan the fix and, with `options.write`, apply it. Raises VersectlError subclasses."""
    if options.reload and not options.write:
        raise InputError("--reload needs --write (nothing is reloaded after a dry run)")
    for uri in options.uris:  # the same rule as check's --uri, plus what a location cannot hold
        if not uri.startswith("/") or any(ch.isspace() or not ch.isprintable() for ch in uri):
            raise InputError(
                f"--uri {uri!r}: a request path starts with '/' and has no spaces or control "
                "characters"
            )
    binary = find_nginx(options.nginx)
    backend = resolve_backend_port(options.backend_port, options.compose)
    if options.path is not None:
        path = options.path
        text = read_config_text(path)
        parse(text, str(path))  # a clear file:line error before anything else
        main = choose_main_config(path, text, explicit=options.nginx_conf, binary=binary)
        config = load_config([str(main.path or path)])
    else:
        config = load_config([str(options.nginx_conf)] if options.nginx_conf else None)
    found = find_targets(
        config, str(options.path) if options.path else None, options.uris, options.server_name,
        host=options.host, port=options.port,
    )  # fmt: skip
    if options.path is None:
        path = Path(found.path)
        text = read_config_text(path)
        main = choose_main_config(path, text, explicit=options.nginx_conf, binary=binary)
    conf_dir = main.path.parent if main.path is not None else path.parent
    notes = _shared_notes(config, str(path), found.targets, force=options.force)
    plan = plan_file(
        str(path), text, found.targets, port=backend.port,
        upstreams=set(upstreams(config)), include_reader=include_reader(conf_dir),
    )  # fmt: skip
    if plan.changed:
        verify_plan(
            config, plan, options.uris, options.server_name, host=options.host, port=options.port
        )
    outcome = FixOutcome(path, plan, backend, unified_diff(plan), main, binary)
    outcome.notes.extend([*config.warnings, *notes])
    if not options.write or not plan.changed:
        return outcome
    backups = backup_plan(main.path)
    outcome.written = write_fixed(
        path,
        plan.original.encode("utf-8", errors="surrogateescape"),
        plan.candidate.encode("utf-8", errors="surrogateescape"),
        validate=lambda target, temp: validate(binary, main, target, temp, str(path)),
        backup=backups.name if options.backup else None,
        now=now or datetime.now(),
    )
    outcome.backup_hidden_because = backups.hidden_because
    outcome.errors_after = _errors_after(config, path, options, backend)
    if options.reload:
        outcome.reload = reload_nginx(binary, main)
    return outcome


def _shared_notes(
    config: LoadedConfig, path: str, targets: Sequence[FixTarget], *, force: bool
) -> list[str]:
    """Refuse to change a block other servers include too, unless --force; say who shares it."""
    notes: list[str] = []
    for target in targets:
        sharing = sharing_servers(config, path, target)
        if len(sharing) < 2:
            continue
        message = (
            f"{path}:{target.line}: this location is shared: {len(sharing)} servers include "
            f"it ({'; '.join(sharing)}); fixing it changes every one of them"
        )
        if not force:
            raise FixError(f"{message}. Add --force to change it anyway")
        notes.append(f"{message} (--force)")
    return notes


def _errors_after(
    before: LoadedConfig, path: Path, options: FixOptions, backend: BackendPort
) -> int | None:
    """Run check on the written config: errors left for locations in the fixed file."""
    try:
        config = load_config([before.main_file] if before.origin != "stdin" else [str(path)])
        result = run_check(
            config,
            CheckOptions(
                uris=options.uris, server_name=options.server_name,
                backend_port=backend.port, offline=True, host=options.host, port=options.port,
            ),
        )  # fmt: skip
    except VersectlError:  # the write stands; the report says the re-check did not run
        return None
    try:  # the fixed blocks, found again as the first time (their lines may have moved)
        found = find_targets(
            config, str(path), options.uris, options.server_name,
            host=options.host, port=options.port,
        )  # fmt: skip
    except VersectlError:
        return None
    real = os.path.realpath(path)
    lines = {target.line for target in found.targets if target.kind == "rewrite"}
    return sum(
        1
        for finding in result.findings
        if finding.severity == "error"
        and finding.location_file is not None
        and os.path.realpath(finding.location_file) == real
        and finding.location_line in lines
    )


def reload_nginx(binary: str | None, main: MainConfig) -> ReloadResult:
    """`nginx -s reload` for the config that was validated: nginx reads the pid file from it."""
    if binary is None:
        return ReloadResult(False, [], "nginx is not installed: nothing to reload")
    command = [binary, *(["-c", str(main.path)] if main.path else []), "-s", "reload"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=NGINX_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return ReloadResult(False, command, str(exc))
    return ReloadResult(result.returncode == 0, command, (result.stderr + result.stdout).strip())


def unified_diff(plan: FilePlan) -> str:
    """The change as a unified diff (`patch -p0` applies it), empty when nothing changes."""
    if not plan.changed:
        return ""
    lines = difflib.unified_diff(
        _lines(plan.original), _lines(plan.candidate), fromfile=plan.path,
        tofile=f"{plan.path} (fixed)",
    )  # fmt: skip
    return "".join(lines)


def _lines(text: str) -> Sequence[str]:
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
