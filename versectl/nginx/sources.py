"""Where config text comes from: files, a directory, an `nginx -T` dump on stdin, or the live
nginx. Reads bytes carefully (size cap, no FIFOs, no binaries) so bad input is one clear error."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from versectl.errors import ConfigLoadError
from versectl.nginx.binary import nginx_binary

MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""Per source and in total. Real configs are kilobytes; this bounds memory and time."""

DEFAULT_MAIN = "/etc/nginx/nginx.conf"
_DUMP_MARKER = re.compile(r"^# configuration file (.+):$", re.MULTILINE)


@dataclass
class SourceSet:
    """The texts to parse: `entries` are parsed as top-level files, in order; `texts` holds
    pre-read files (an `nginx -T` dump) that includes resolve against instead of the disk."""

    entries: list[str]
    texts: dict[str, str] = field(default_factory=dict)
    origin: str = "files"
    """files | stdin (an `nginx -T` dump) | nginx -T (the live config) | default file"""
    budget: list[int] = field(default_factory=lambda: [MAX_CONFIG_BYTES])

    def read(self, path: str) -> str:
        """The text of `path`: from the dump when it holds it, else from disk."""
        if path in self.texts:
            return self.texts[path]
        if self.origin == "stdin":
            raise ConfigLoadError(f"{path}: not in the nginx -T dump read from stdin")
        text = read_config_file(path, self.budget[0])
        self.budget[0] -= len(text)
        return text

    def exists(self, path: str) -> bool:
        """True when `path` names something to include; a directory on the way that cannot be
        searched is ConfigLoadError: what it hides would go unchecked."""
        if self.origin == "stdin":
            return path in self.texts
        return path in self.texts or _stat(path) is not None

    def glob(self, pattern: str) -> list[str]:
        """What an include glob matches, sorted like nginx (glob(3)) sorts them. A directory
        that cannot be listed is ConfigLoadError, never an empty match."""
        if self.origin == "stdin":
            import fnmatch

            return sorted(p for p in self.texts if fnmatch.fnmatchcase(p, pattern))
        return include_glob(pattern)


def include_glob(pattern: str) -> list[str]:
    """glob(3) as nginx calls it (no flags): `*`, `?` and `[...]` per path component, hidden
    names only for a component starting with `.`, sorted. Unlike glob(3) (and Python's glob),
    a directory on the way that cannot be read raises ConfigLoadError instead of matching
    nothing: as a non-root user that silence hid a whole conf.d from the check."""
    import fnmatch
    import glob as _glob

    parts = pattern.split("/")
    found = ["/" if pattern.startswith("/") else ""]
    for index, part in enumerate(parts):
        if not part:
            continue
        last = index == len(parts) - 1
        if not _glob.has_magic(part):
            found = [_join(base, part) for base in found]
            continue
        matched: list[str] = []
        for base in found:
            if not last and base and _stat(base) is None:
                continue
            try:
                with os.scandir(base or ".") as entries:
                    names = [e.name for e in entries]
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                raise ConfigLoadError(_unreadable(base or ".", exc)) from None
            hidden_ok = part.startswith(".")
            matched += [
                _join(base, name)
                for name in names
                if fnmatch.fnmatchcase(name, part) and (hidden_ok or not name.startswith("."))
            ]
        found = matched
    return sorted(p for p in found if _stat(p) is not None)


def _stat(path: str) -> os.stat_result | None:
    """os.stat, None when nothing is there; a permission problem is ConfigLoadError."""
    try:
        return Path(path).stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise ConfigLoadError(_unreadable(path, exc)) from None


def _join(base: str, name: str) -> str:
    return str(Path(base) / name) if base else name


def _unreadable(path: str, exc: OSError) -> str:
    if not isinstance(exc, PermissionError):
        return f"{path}: cannot read ({exc.strerror or exc})"
    return (
        f"{path}: cannot read ({exc.strerror}, as uid {os.geteuid()}); what it holds cannot be "
        "checked: run as a user that can read it (sudo), or `sudo nginx -T | versectl check "
        "nginx -`"
    )


def read_config_file(path: str, budget: int = MAX_CONFIG_BYTES) -> str:
    """Read one config file as text, or raise ConfigLoadError saying why it cannot be."""
    try:
        info = Path(path).stat()
    except FileNotFoundError:
        raise ConfigLoadError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigLoadError(_unreadable(path, exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigLoadError(f"{path}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        # opening a FIFO or a device would block or never end
        raise ConfigLoadError(f"{path}: not a regular file")
    if info.st_size > budget:
        raise ConfigLoadError(
            f"{path}: too large ({_mib(info.st_size)}; the limit is {_mib(budget)})"
        )
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(budget + 1)
    except OSError as exc:
        raise ConfigLoadError(_unreadable(path, exc)) from None
    if len(data) > budget:
        raise ConfigLoadError(f"{path}: too large (more than {_mib(budget)})")
    return decode_config(data, path)


def decode_config(data: bytes, path: str) -> str:
    """Config bytes as text; binary data is refused (nginx configs are text)."""
    if b"\0" in data:
        raise ConfigLoadError(f"{path}: binary data, not an nginx config")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") * 20 > len(text):  # over 5 % undecodable: not text
            raise ConfigLoadError(f"{path}: binary data, not an nginx config") from None
        return text  # a stray latin-1 byte in a comment: nginx does not care either


def split_dump(text: str) -> dict[str, str]:
    """Split `nginx -T` output at its `# configuration file X:` markers: path -> text."""
    marks = list(_DUMP_MARKER.finditer(text))
    files: dict[str, str] = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        # nginx writes the file verbatim after the marker line (plus a newline of its own)
        files.setdefault(mark.group(1), text[mark.end() + 1 : end])
    return files


def from_dump(text: str, origin: str) -> SourceSet:
    files = split_dump(text)
    if not files:
        raise ConfigLoadError(
            "stdin: no '# configuration file ...:' markers; expected the output of `nginx -T`"
        )
    return SourceSet(entries=[next(iter(files))], texts=files, origin=origin)


def from_paths(paths: Sequence[str]) -> SourceSet:
    """Files as given; a directory: its nginx.conf when it has one, else all its *.conf."""
    if list(paths) == ["-"]:
        data = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigLoadError(f"stdin: too large (more than {_mib(MAX_CONFIG_BYTES)})")
        return from_dump(decode_config(data, "stdin"), "stdin")
    if "-" in paths:
        raise ConfigLoadError("'-' (stdin) cannot be combined with other paths")
    entries: list[str] = []
    for raw in paths:
        # absolute but not symlink-resolved: sites-enabled/x stays sites-enabled/x
        path = os.path.normpath(Path(raw).absolute())
        info = _stat(path)
        if info is not None and stat.S_ISDIR(info.st_mode):
            entries += _directory_entries(path)
        else:
            entries.append(path)
    return SourceSet(entries=list(dict.fromkeys(entries)))


def _directory_entries(path: str) -> list[str]:
    main = _join(path, "nginx.conf")
    info = _stat(main)
    if info is not None and stat.S_ISREG(info.st_mode):
        return [main]
    try:
        with os.scandir(path) as listing:
            names = sorted(entry.name for entry in listing)
    except OSError as exc:
        raise ConfigLoadError(_unreadable(path, exc)) from None
    found = [
        child
        for child in (_join(path, name) for name in names if name.endswith(".conf"))
        if (child_info := _stat(child)) is not None and stat.S_ISREG(child_info.st_mode)
    ]
    if not found:
        raise ConfigLoadError(f"{path}: no nginx.conf and no *.conf files in this directory")
    return found


def live(run: Callable[[list[str]], subprocess.CompletedProcess[bytes]] | None = None) -> SourceSet:
    """The running config: `nginx -T` when it works, else /etc/nginx/nginx.conf from disk."""
    binary = nginx_binary()
    if binary is not None:
        runner = run or _run
        try:
            result = runner([binary, "-T"])
        except (OSError, subprocess.TimeoutExpired):
            result = None
        if (
            result is not None
            and result.returncode == 0
            and _DUMP_MARKER.search(result.stdout.decode("utf-8", errors="replace"))
        ):
            return from_dump(decode_config(result.stdout, "nginx -T"), "nginx -T")
    if not Path(DEFAULT_MAIN).exists():
        raise ConfigLoadError(
            f"no nginx on PATH and no {DEFAULT_MAIN}: give the config path (or `nginx -T | "
            "versectl check nginx -`)"
        )
    return SourceSet(entries=[DEFAULT_MAIN], origin="default file")


def _run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, timeout=20, check=False)


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB"
