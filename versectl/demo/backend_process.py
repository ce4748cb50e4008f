"""Run verse_backend in a child process on a free loopback port, for the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from versectl.demo.ports import free_port
from versectl.demo.waiting import wait_until


@contextmanager
def running_backend(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `verse-backend` (simulated model unless `env` says otherwise); yield its base URL."""
    port = free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    child_env |= {"VERSE_PROVIDER": "simulated", "VERSE_DB": str(data_dir / "verse.sqlite3")}
    # verse-backend's slowloris guard, sized for one local user: short request-head deadline,
    # few connections (README, "Production": the same knobs in docker-compose.prod.yml).
    child_env |= {"VERSE_HEADER_TIMEOUT_S": "5", "VERSE_MAX_CONNECTIONS": "64"}
    child_env |= env or {}
    log = (data_dir / "backend.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "verse_backend", "--host", "127.0.0.1", "--port", str(port)],
        env=child_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or _healthy(url), 30, "the backend to start")
        if process.poll() is not None:
            log.flush()
            raise RuntimeError(
                "the backend did not start:\n" + (data_dir / "backend.log").read_text()
            )
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
