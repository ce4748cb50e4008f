"""Looks at the machine, not the config: can a backend port be reached, and since when does the
running nginx run its current configuration (for stale-reload)."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from versectl.nginx.load import LoadedConfig

DEFAULT_PID_FILE = "/run/nginx.pid"
CONNECT_TIMEOUT = 0.5


def can_connect(host: str, port: int) -> bool:
    """True when something accepts a TCP connection on host:port within half a second."""
    import socket  # here: --offline and a config without local targets never connect

    try:
        with socket.create_connection((host.strip("[]"), port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def running_nginx(config: LoadedConfig) -> tuple[int, float] | None:
    """(master pid, when its current workers started, Unix time) of the nginx that runs this
    config; None when none runs or it runs another config. Workers are replaced on reload,
    so their start time is when the config in memory was read."""
    pid_file = _pid_file(config)
    try:
        pid = int(Path(pid_file).read_text().strip())
    except (OSError, ValueError):
        return None
    cmdline = _cmdline(pid)
    if not cmdline or "nginx" not in cmdline[0]:
        return None  # a stale pid file: the pid now belongs to something else
    if not _runs_config(cmdline, config):
        return None
    started = [t for t in (_start_time(w) for w in _children(pid)) if t is not None]
    master = _start_time(pid)
    if not started and master is None:
        return None
    return pid, min(started) if started else float(master or 0.0)


def _pid_file(config: LoadedConfig) -> str:
    for stmt in config.root:
        if stmt.name == "pid" and stmt.args:
            return stmt.args[0]
    return DEFAULT_PID_FILE


def _runs_config(cmdline: list[str], config: LoadedConfig) -> bool:
    conf = "/etc/nginx/nginx.conf"
    prefix = ""
    for flag, value in itertools.pairwise(cmdline):
        if flag == "-c":
            conf = value
        elif flag == "-p":
            prefix = value
    if not Path(conf).is_absolute():
        conf = str(Path(prefix or "/etc/nginx") / conf)
    conf = os.path.realpath(conf)
    if os.path.realpath(config.main_file) == conf:
        return True
    # a site file checked on its own: the running nginx reads it if it sits under its conf dir
    conf_dir = str(Path(conf).parent)
    return config.site_level and os.path.realpath(config.main_file).startswith(conf_dir + os.sep)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    # nginx rewrites its argv ("nginx: master process /usr/sbin/nginx -c ..."): split on spaces
    tokens = raw.replace(b"\0", b" ").decode(errors="replace").split()
    if tokens[:3] == ["nginx:", "master", "process"]:
        tokens = tokens[3:]
    return tokens


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def _stat_fields(pid: int) -> list[str]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return stat[stat.rfind(")") + 2 :].split()  # the name may hold spaces: split after ")"


def _start_time(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if len(fields) < 20:
        return None
    ticks = int(fields[19])  # field 22 of /proc/pid/stat: starttime, clock ticks after boot
    return _boot_time() + ticks / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    # /proc/stat's btime is whole seconds (and drifts against the wall clock); now minus
    # /proc/uptime is good to a clock tick, on the same boot-time clock as starttime
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return time.time() - uptime
