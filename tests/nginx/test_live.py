"""The two rules that look at the machine, against real processes: backend-unreachable with a
real listening backend and a closed port, stale-reload with a real nginx and its reloads."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

from tests.support.nginx import NginxServer
from versectl.demo.ports import free_port
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.live import running_nginx
from versectl.nginx.load import load_config

pytestmark = pytest.mark.e2e


def _site(port: int) -> str:
    return (
        "server {\n    listen 127.0.0.1:@PORT@;\n"
        f"    location /api {{ proxy_pass http://127.0.0.1:{port}; proxy_buffering off; }}\n}}\n"
    )


def test_backend_unreachable_real_sockets(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    closed = free_port()  # nothing listens there: connections are refused
    site = tmp_path / "site.conf"
    # a listening socket is all a TCP connect needs: the kernel completes the handshake
    with socket.create_server(("127.0.0.1", 0)) as listener:
        backend_port = int(listener.getsockname()[1])
        site.write_text(_site(closed).replace("@PORT@", "8080"))
        options = CheckOptions(backend_port=backend_port, offline=False)
        found = [
            f
            for f in run_check(load_config([str(site)]), options).findings
            if f.rule == "backend-unreachable"
        ]
        assert len(found) == 1
        assert f"127.0.0.1:{closed}" in found[0].message
        assert f"port {backend_port} accepts connections" in found[0].message
        site.write_text(_site(backend_port).replace("@PORT@", "8080"))
        found = [
            f
            for f in run_check(load_config([str(site)]), options).findings
            if f.rule == "backend-unreachable"
        ]
        assert found == []


def test_stale_reload_follows_a_real_nginx(nginx: Callable[[str], NginxServer]) -> None:
    server = nginx(_site(7776))
    config = load_config([str(server.conf_path)])
    running = running_nginx(config)
    assert running is not None, "the fixture's nginx was not found through its pid file"
    pid, loaded_at = running
    assert pid == server.pid

    def stale() -> list[str]:
        options = CheckOptions(backend_port=7776, offline=False, connect=lambda _h, _p: True)
        result = run_check(load_config([str(server.conf_path)]), options)
        return [f.file for f in result.findings if f.rule == "stale-reload"]

    # the site file edited half a minute after the workers started: not running yet
    os.utime(server.site_path, (loaded_at + 30, loaded_at + 30))
    assert stale() == [str(server.site_path)]
    # edited before they started: running
    os.utime(server.site_path, (loaded_at - 30, loaded_at - 30))
    assert stale() == []
    # a reload starts new workers: the reference moves with them
    server.reload()
    reloaded = running_nginx(config)
    assert reloaded is not None and reloaded[0] == pid and reloaded[1] >= loaded_at
    os.utime(server.site_path, (reloaded[1] + 30, reloaded[1] + 30))
    assert stale() == [str(server.site_path)]


def test_stale_reload_skipped_offline_and_for_other_configs(
    nginx: Callable[[str], NginxServer], tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    server = nginx(_site(7776))
    os.utime(server.site_path, (2**31, 2**31))  # far in the future
    offline = run_check(load_config([str(server.conf_path)]), CheckOptions(offline=True))
    assert "stale-reload" not in {f.rule for f in offline.findings}
    other = tmp_path / "other.conf"  # the same pid file, but this nginx does not run it
    other.write_text(server.conf_path.read_text())
    assert running_nginx(load_config([str(other)])) is None
