"""`verse-backend` / `python -m verse_backend`: flags reach uvicorn; unsafe settings exit 2;
SIGTERM with a stream open ends within the graceful timeout and keeps the partial answer."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import verse_backend.__main__ as entry
from tests.backend.sse_client import CHAT_PATH, chat_body, new_client
from tests.support.backend_server import backend_env
from tests.support.waiting import wait_until
from verse_backend.connection_guard import GuardedH11Protocol, accept_backlog, connection_cap
from versectl.demo.ports import free_port


def test_main_runs_uvicorn_with_proxy_headers_and_graceful_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(entry, "serve", lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("VERSE_DB", str(tmp_path / "verse.sqlite3"))
    monkeypatch.setenv("VERSE_FORWARDED_ALLOW_IPS", "172.30.77.1")
    entry.main([])
    entry.main(["--host", "127.0.0.2", "--port", "8001", "--timeout-graceful-shutdown", "2"])
    monkeypatch.setenv("VERSE_HEADER_TIMEOUT_S", "3")
    monkeypatch.setenv("VERSE_MAX_CONNECTIONS", "7")
    monkeypatch.setenv("VERSE_KEEP_ALIVE_S", "4")
    entry.main(["--fd", "3"])
    guard = calls[0].pop("http")
    assert calls[0] == {
        "host": "127.0.0.1",
        "port": 7776,
        "proxy_headers": True,
        "forwarded_allow_ips": "172.30.77.1",
        "timeout_graceful_shutdown": 5.0,
        "timeout_keep_alive": 5,
        "backlog": accept_backlog(connection_cap(1000)),
    }
    assert issubclass(guard, GuardedH11Protocol)
    assert (guard.header_timeout_s, guard.max_connections) == (10.0, connection_cap(1000))
    small = calls[2]["http"]
    assert (small.header_timeout_s, small.max_connections, calls[2]["backlog"]) == (3.0, 7, 8)
    assert (calls[2]["fd"], calls[2]["timeout_keep_alive"]) == (3, 4)
    assert "host" not in calls[2]
    assert (calls[1]["host"], calls[1]["port"], calls[1]["timeout_graceful_shutdown"]) == (
        "127.0.0.2",
        8001,
        2.0,
    )


def test_main_refuses_public_host_with_paid_model_and_no_password(tmp_path: Path) -> None:
    env = backend_env(
        tmp_path, {"VERSE_PROVIDER": "auto", "ANTHROPIC_API_KEY": "sk-ant-secret-value"}
    )
    result = subprocess.run(
        [sys.executable, "-m", "verse_backend", "--host", "0.0.0.0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "VERSE_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr
    assert "sk-ant-secret-value" not in result.stderr + result.stdout


def test_main_sigterm_cuts_open_streams_after_the_graceful_timeout(tmp_path: Path) -> None:
    port = free_port()  # verse-backend binds by number: a tiny race with others remains
    env = backend_env(tmp_path, {"VERSE_SIM_TOKEN_MS": "200"})
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "verse_backend",
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return httpx.get(url + "/api/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(healthy, 30, "verse-backend to serve /api/health")
        with (
            new_client(url) as client,
            client.stream("POST", CHAT_PATH, json=chat_body()) as response,
        ):
            assert response.status_code == 200
            for chunk in response.iter_raw():
                if b"event: token" in chunk:
                    break
            signalled = time.perf_counter()
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
            elapsed = time.perf_counter() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # uvicorn re-raises the signal it handled once it has shut down cleanly.
    assert process.returncode in (0, -signal.SIGTERM)
    assert elapsed < 5, f"shutdown took {elapsed:.1f}s with a 1 s graceful timeout"
    with sqlite3.connect(Path(env["VERSE_DB"])) as db:
        rows = db.execute("SELECT role, status FROM messages ORDER BY id").fetchall()
    assert rows == [("user", "complete"), ("assistant", "interrupted")]
