"""`versectl doctor` through a real nginx in front of the real backend: advice from both halves."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import nginx_templates
from tests.support.backend_server import running_backend
from tests.support.nginx import NginxServer, free_port
from versectl.demo.story import BROKEN_SITE

CHAT = "/api/chat/message"


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    with running_backend(tmp_path, {"VERSE_SIM_TOKEN_MS": "10"}) as url:
        yield url


def _doctor(nginx: NginxServer, backend_port: str, *extra: str) -> tuple[int, dict[str, object]]:
    args = [sys.executable, "-m", "versectl", "doctor", nginx.url + CHAT, "--format", "json"]
    args += ["--config", str(nginx.conf_path), "--backend-port", backend_port, *extra]
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def _good_site(backend_port: str) -> str:
    block = nginx_templates.api_location().replace("7776", backend_port)
    return f"server {{\n    listen 127.0.0.1:@PORT@;\n{block}\n}}\n"


def test_doctor_names_the_config_lines_that_hold_the_stream(
    nginx: Callable[[str], NginxServer], backend: str
) -> None:
    port = backend.rsplit(":", 1)[1]
    server = nginx(BROKEN_SITE.replace("@BACKEND_PORT@", port))
    code, doc = _doctor(server, port)
    probe = doc["probe"]
    assert isinstance(probe, dict)
    assert probe["results"][0]["verdict"] in ("buffered", "partial")
    assert code == 1
    advice = " ".join(doc["advice"])  # type: ignore[arg-type]
    assert "gzip-event-stream" in advice
    assert str(server.site_path) in advice


def test_doctor_clean_when_template_streams(
    nginx: Callable[[str], NginxServer], backend: str
) -> None:
    port = backend.rsplit(":", 1)[1]
    server = nginx(_good_site(port))
    code, doc = _doctor(server, port)
    assert doc["probe"]["results"][0]["verdict"] == "streaming"  # type: ignore[index]
    assert doc["check"]["summary"]["error"] == 0  # type: ignore[index]
    assert code == 0, doc["advice"]


def test_doctor_says_the_backend_is_down(nginx: Callable[[str], NginxServer]) -> None:
    dead = str(free_port())  # nothing listens there
    server = nginx(_good_site(dead))
    code, doc = _doctor(server, dead, "--no-login")
    assert code == 2
    advice = " ".join(doc["advice"])  # type: ignore[arg-type]
    assert "backend itself does not answer" in advice
    assert "port-mismatch" in advice or "backend-unreachable" in advice
