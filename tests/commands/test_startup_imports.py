"""What `versectl check nginx` imports: the heavy modules only when the config or the options
need them (issue 11 item 6), so a regression fails here, not only in bench/check_nginx.py."""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import versectl.__main__ as entry
import versectl.cli
from tests.support.python_probe import versectl_modules

NEVER = (
    "rich",
    "pydantic",
    "asyncio",
    "httpx",
    "ssl",
    "zipfile",
    "tempfile",
    "importlib.resources",
)
"""Never on the check path with stdout piped: rich only for a terminal, the rest for probes."""


def _modules_after(cwd: Path, *args: str) -> set[str]:
    """The modules loaded by the console script's entry point, stdout piped (no terminal), in
    `cwd` (the repository's own docker-compose.prod.yml would be read, as it should)."""
    loaded, done = versectl_modules(*args, cwd=cwd)
    assert done.returncode == 0 and "check nginx" in done.stdout, done.stderr[-2000:]
    return loaded


def _packages(loaded: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in loaded if any(m == n or m.startswith(n + ".") for n in names)}


@pytest.fixture
def listening() -> Iterator[int]:
    """An ephemeral loopback port that accepts connections (the backend the config names)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_offline_check_without_regex_imports_no_regex_socket_or_profiles(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { location /api { proxy_pass http://127.0.0.1:7776; } }\n")
    loaded = _modules_after(tmp_path, "check", "nginx", "--offline", str(site))
    assert "versectl.nginx.check" in loaded
    assert not _packages(loaded, (*NEVER, "regex", "socket", "tomllib", "versectl.probe"))
    assert "versectl.nginx.model.server_select" not in loaded  # only --host/--port choose


def test_live_check_connects_with_socket_only(tmp_path: Path, listening: int) -> None:
    site = tmp_path / "site.conf"
    site.write_text(f"server {{ location /api {{ proxy_pass http://127.0.0.1:{listening}; }} }}\n")
    loaded = _modules_after(tmp_path, "check", "nginx", "--backend-port", str(listening), str(site))
    assert "socket" in loaded  # backend-unreachable connected to the backend
    assert not _packages(loaded, (*NEVER, "regex", "tomllib", "versectl.probe"))


def test_regex_location_imports_regex(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(
        "server { server_name ~^chat\\d+$; location ~ ^/api/ { proxy_pass http://127.0.0.1:7776; } }\n"
    )
    loaded = _modules_after(tmp_path, "check", "nginx", "--offline", str(site))
    assert "regex" in loaded
    assert not _packages(loaded, (*NEVER, "socket"))


def test_port_clue_reads_the_profiles_without_the_probe(tmp_path: Path) -> None:
    # the seed's case: a local target on another port than the default, so the app profiles
    # are asked whose port it is (none: uvicorn's 8000 is generic)
    site = tmp_path / "site.conf"
    site.write_text("server { location /api { proxy_pass http://localhost:8000; } }\n")
    loaded = _modules_after(tmp_path, "check", "nginx", "--offline", str(site))
    assert "tomllib" in loaded and "versectl.apps.profile" in loaded
    assert not _packages(loaded, (*NEVER, "regex", "socket", "versectl.probe"))


def test_host_option_imports_the_server_choice(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(
        "server { server_name a.test; location /api { proxy_pass http://[::1]:7776; } }\n"
    )
    loaded = _modules_after(tmp_path, "check", "nginx", "--offline", "--host", "a.test", str(site))
    assert "versectl.nginx.model.server_select" in loaded


def test_entry_point_runs_the_cli_with_the_collector_off(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(versectl.cli, "main", lambda: seen.append(gc.isenabled()))
    try:
        entry.main()
    finally:
        gc.enable()
    assert seen == [False]
