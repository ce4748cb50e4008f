"""`nginx -t` on the whole config with the fixed file in place, without touching the live file.

Design: the fixed text is already in a temp file next to the target (the one os.replace will
move). The include statements on the path from the main config down to the target are
rewritten, in hidden temp copies, to name that temp file instead; the copy of the main config
sits in the main config's own directory so relative paths (include, ssl_certificate, mime.types)
resolve exactly as for the live config; then `nginx -t -c <copy>` and the copies are deleted.
Only the files on the include path are copied; every other file is read by nginx in place.
Chosen over swapping the fixed file in and back (a kill between the two leaves it broken) and
over crossplane.build (it re-quotes and reflows text nginx would read differently in rare cases).
Temp names start with a dot and end in .tmp: no `include dir/*` or `*.conf` glob loads them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from versectl.errors import InputError
from versectl.fix.edit import Edit, apply_edits
from versectl.fix.includes import expand, includes_file, read_config_text
from versectl.fix.killpoints import kill_point
from versectl.fix.syntax import Statement, parse, quote_word, statements, walk
from versectl.nginx.binary import nginx_binary
from versectl.nginx.parse import MAIN, guess_context, lex

NGINX_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class MainConfig:
    """The main config used for validation, and why it was chosen (None: the file alone)."""

    path: Path | None
    how: str


@dataclass(frozen=True, slots=True)
class Validation:
    """The result of validating the fixed file."""

    status: Literal["passed", "failed", "skipped"]
    how: str
    command: list[str] = field(default_factory=list)
    output: str = ""
    failed_before: bool = False
    """nginx -t fails without the fix too: the problem is elsewhere in the config."""
    output_before: str = ""
    """What nginx -t says about the config without the fix, when it fails too."""


def find_nginx(explicit: str | None) -> str | None:
    """The nginx binary: `--nginx BIN` (must exist), else nginx on PATH or in the usual places."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise InputError(f"--nginx {explicit}: no such executable")
        return found
    return nginx_binary()


def compiled_conf_path(binary: str) -> Path | None:
    """The main config nginx loads by default (`--conf-path` in `nginx -V`)."""
    try:
        result = subprocess.run(
            [binary, "-V"], capture_output=True, text=True, timeout=NGINX_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stderr + result.stdout
    conf = re.search(r"--conf-path=(\S+)", text)
    if conf:
        return Path(conf.group(1))
    prefix = re.search(r"--prefix=(\S+)", text)
    return Path(prefix.group(1) if prefix else "/usr/local/nginx") / "conf" / "nginx.conf"


def is_main_config(text: str, file: str) -> bool:
    """Whether a file is a main config (`events`, `http`, ... at top level), decided as check's
    loader decides it."""
    return guess_context(lex(text, file)) == MAIN


def choose_main_config(
    path: Path, text: str, *, explicit: Path | None, binary: str | None
) -> MainConfig:
    """Which main config validates `path`: --nginx-conf, `path` itself, or the live one."""
    if explicit is not None:
        if not explicit.is_file():
            raise InputError(f"--nginx-conf {explicit}: no such file")
        if not includes_file(explicit.absolute(), path):
            raise InputError(f"--nginx-conf {explicit}: it does not include {path}")
        return MainConfig(explicit.absolute(), f"the main config {explicit} (--nginx-conf)")
    if is_main_config(text, str(path)):
        return MainConfig(path.absolute(), f"{path} is the main config")
    live = compiled_conf_path(binary) if binary else None
    for candidate in (live, Path("/etc/nginx/nginx.conf")):
        if candidate is not None and candidate.is_file() and includes_file(candidate, path):
            return MainConfig(candidate, f"the live main config {candidate} includes {path}")
    return MainConfig(None, f"{path} alone: no main config found that includes it")


def validate(
    binary: str | None, main: MainConfig, target: Path, candidate_file: Path, shown_as: str
) -> Validation:
    """`nginx -t` with `candidate_file` standing in for `target` (a real path, not a symlink)."""
    if binary is None:
        return Validation("skipped", "nginx is not installed")
    temps: list[Path] = []
    try:
        config = _stand_in(main, target, candidate_file, temps)
        kill_point("validation_files_written")
        command = [binary, "-t", "-c", str(config)]
        result = _run(command)
        names = {str(temp): str(main.path or target) for temp in temps}
        names[str(candidate_file)] = f"{shown_as} (fixed)"
        output = _rename(result.stderr + result.stdout, names)
        if result.returncode == 0:
            return Validation("passed", main.how, command, output)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    before = _validate_original(binary, main, target, shown_as)
    return Validation(
        "failed", main.how, command, output, failed_before=before is not None,
        output_before=before or "",
    )  # fmt: skip


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=NGINX_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 1, "", "nginx -t did not finish in time")
    except OSError as exc:
        return subprocess.CompletedProcess(command, 1, "", f"cannot run nginx: {exc}")


def _validate_original(binary: str, main: MainConfig, target: Path, shown_as: str) -> str | None:
    """nginx -t's complaint about the live, unfixed files (read-only); None when they pass."""
    temps: list[Path] = []
    try:
        config = main.path if main.path is not None else _wrapper(target, target, temps)
        result = _run([binary, "-t", "-c", str(config)])
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    if result.returncode == 0:
        return None
    names = {str(temp): shown_as for temp in temps} | {str(target): shown_as}
    return _rename(result.stderr + result.stdout, names)


def _rename(output: str, names: dict[str, str]) -> str:
    for temp, original in sorted(names.items(), key=lambda item: -len(item[0])):
        output = output.replace(temp, original)
    return output.strip()


def _stand_in(main: MainConfig, target: Path, candidate_file: Path, temps: list[Path]) -> Path:
    """A main config that loads `candidate_file` wherever the live one loads `target`."""
    real_target = os.path.realpath(target)
    if main.path is None:
        return _wrapper(target, candidate_file, temps)
    conf_dir = main.path.parent
    if os.path.realpath(main.path) == real_target:
        if candidate_file.parent == conf_dir:
            return candidate_file
        return _temp_copy(conf_dir, read_config_text(candidate_file), temps)
    copy = _substituted(main.path, conf_dir, real_target, candidate_file, temps, ())
    if copy is None:  # choose_main_config checked the include; the tree changed since
        raise InputError(f"{main.path} no longer includes {target}")
    return copy


def _substituted(
    file: Path,
    conf_dir: Path,
    real_target: str,
    candidate_file: Path,
    temps: list[Path],
    chain: tuple[str, ...],
) -> Path | None:
    """A temp copy of `file` whose includes load the candidate (None: nothing to change)."""
    real = os.path.realpath(file)
    if real in chain:
        return None
    text = read_config_text(file)
    edits = []
    for statement, _parents in walk(parse(text, str(file))):
        if statement.name != "include" or len(statement.args) != 1:
            continue
        loaded, changed = [], False
        for match in expand(statement.args[0], conf_dir):
            if os.path.realpath(match) == real_target:
                loaded.append(candidate_file)
                changed = True
                continue
            inner = None
            if match.is_file():
                inner = _substituted(
                    match, conf_dir, real_target, candidate_file, temps, (*chain, real)
                )
            loaded.append(inner or match)
            changed = changed or inner is not None
        if changed:
            edits.append(_includes_edit(file, statement, loaded))
    if not edits:
        return None
    return _temp_copy(conf_dir, apply_edits(text, edits), temps)


def _includes_edit(file: Path, statement: Statement, loaded: list[Path]) -> Edit:
    # One include per file, on the statement's own line: line numbers in messages stay right.
    replacement = " ".join(f"include {quote_word(str(path))};" for path in loaded)
    return Edit(str(file), statement.start, statement.end, replacement or "")


def _wrapper(target: Path, loaded: Path, temps: list[Path]) -> Path:
    """A minimal main config around a file no main config includes (http or server level)."""
    top = {s.name for s in statements(parse(read_config_text(loaded), str(target)))}
    include = f"include {quote_word(str(loaded))};"
    if "location" in top:
        include = f"server {{ {include} }}"
    text = f"events {{}}\nhttp {{\n{include}\n}}\n"
    return _temp_copy(target.parent, text, temps)


def _temp_copy(directory: Path, text: str, temps: list[Path]) -> Path:
    fd, name = tempfile.mkstemp(prefix=".versectl-validate-", suffix=".tmp", dir=directory)
    path = Path(name)
    temps.append(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8", errors="surrogateescape"))
    return path
