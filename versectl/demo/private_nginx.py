"""A private nginx (the system binary) on loopback: own prefix dir, ephemeral port, generated main config.

The caller supplies the http-level "site" text (servers, upstreams, http directives) in which
`@PORT@` is replaced by the listen port. Used by `make demo` and by the test suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from versectl.demo.ports import free_port
from versectl.demo.waiting import wait_until
from versectl.nginx.binary import nginx_binary

_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def main_config(prefix: Path, site_path: Path) -> str:
    """The generated nginx.conf: everything private to `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp_root = prefix / "tmp"
    temps = "".join(f"    {name}_temp_path {temp_root / name};\n" for name in _TEMP_DIRS)
    return (
        f"{user}worker_processes 1;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log info;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        f"    access_log {prefix}/access.log;\n"
        f"{temps}"
        "    default_type application/octet-stream;\n"
        f"    include {site_path};\n"
        "}\n"
    )


@dataclass
class NginxServer:
    """A running nginx master (daemonized) and the files that configure it."""

    binary: str
    prefix: Path
    conf_path: Path
    site_path: Path
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return int((self.prefix / "nginx.pid").read_text().strip())

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def nginx_args(self, *extra: str) -> list[str]:
        return [self.binary, "-p", str(self.prefix), "-c", str(self.conf_path), *extra]

    def test_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.nginx_args("-t"), capture_output=True, text=True, check=False)

    def workers(self) -> set[int]:
        return _children_of(self.pid)

    def reload(self, timeout: float = 10.0) -> None:
        """`nginx -s reload`, and wait until only workers with the new config remain."""
        old = self.workers()
        result = subprocess.run(
            self.nginx_args("-s", "reload"), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"nginx -s reload failed: {result.stderr}")
        wait_until(
            lambda: (now := self.workers()) != set() and not (now & old),
            timeout,
            "nginx workers to be replaced after reload",
        )

    def stop(self, timeout: float = 10.0) -> None:
        try:
            pid = self.pid
        except (FileNotFoundError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        wait_until(lambda: not _alive(pid), timeout, "nginx to exit")


def _alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped by init) counts as gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def _children_of(pid: int) -> set[int]:
    children: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid:
            children.add(int(entry.name))
    return children


@contextmanager
def running_nginx(prefix: Path, site: str, binary: str | None = None) -> Iterator[NginxServer]:
    """Start nginx on a fresh loopback port with `site` (``@PORT@`` -> the port) and stop it after.

    nginx daemonizes only after its listening sockets are open, so when the start command
    returns, connections queue in the backlog: no readiness polling on the port is needed.
    """
    binary = binary or nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    prefix.mkdir(parents=True, exist_ok=True)
    for name in _TEMP_DIRS:
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    conf_path = prefix / "nginx.conf"
    site_path = prefix / "site.conf"
    conf_path.write_text(main_config(prefix, site_path))
    last_error = ""
    for _attempt in range(3):
        port = free_port()
        site_path.write_text(site.replace("@PORT@", str(port)))
        server = NginxServer(binary, prefix, conf_path, site_path, port)
        result = subprocess.run(server.nginx_args(), capture_output=True, text=True, check=False)
        if result.returncode == 0:
            break
        last_error = result.stderr
        if "Address already in use" not in last_error:
            raise RuntimeError(f"nginx failed to start:\n{last_error}\n--- site.conf:\n{site}")
    else:
        raise RuntimeError(f"nginx failed to start:\n{last_error}")
    try:
        wait_until(lambda: (prefix / "nginx.pid").exists(), 10, "nginx pid file")
        wait_until(lambda: bool(server.workers()), 10, "nginx worker process")
        yield server
    finally:
        server.stop()
