"""Through a real nginx: a config that holds the stream, `versectl fix --write`, reload, and the
probe's verdict goes from buffered to streaming."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fix.cli import run_fix
from tests.fix.configs import seed_site
from tests.support.nginx import NginxServer
from tests.support.scripted_server import SSE_HEADERS, Plan, scripted_server, sse_tokens
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

# A conforming backend without X-Accel-Buffering: chunked for HTTP/1.1, close-delimited for 1.0.
STREAM = Plan(sse_tokens(40, 0.025), headers=SSE_HEADERS, framing="auto")


def _seed_with(backend_port: int, api_body: str) -> str:
    """The seed's site file (port placeholder kept for the fixture) with this /api body."""
    site = seed_site("@PORT@")
    start = site.index("    location /api {")
    end = site.index("    }\n", start) + len("    }\n")
    block = f"    location /api {{\n        proxy_pass http://127.0.0.1:{backend_port};\n{api_body}    }}\n"
    return site[:start] + block + site[end:]


def _verdict(url: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "versectl", "probe-stream", url, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ},
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    result = json.loads(done.stdout)["results"][0]
    return done.returncode, str(result["verdict"])


def _fix(server: NginxServer, backend_port: int, tmp_path: Path, *extra: str) -> str:
    done = run_fix(
        server.site_path, "--write", "--nginx-conf", server.conf_path,
        "--backend-port", str(backend_port), *extra, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "nginx -t passed" in done.stdout
    return done.stdout


@pytest.mark.parametrize(
    "api_body",
    [
        "        proxy_http_version 1.1;\n        gzip on;\n        gzip_types text/event-stream;\n",
        "        proxy_read_timeout 90;\n",
    ],
    ids=["gzip-of-event-stream", "bare-proxy-pass-http10"],
)
def test_fix_nginx_held_stream_streams_after_fix_and_reload(
    nginx: Callable[[str], NginxServer], tmp_path: Path, api_body: str
) -> None:
    with scripted_server(STREAM) as backend:
        server = nginx(_seed_with(backend.port, api_body))
        url = server.url + "/api/chat/message"
        assert _verdict(url) == (1, "buffered")

        _fix(server, backend.port, tmp_path)
        server.reload()
        assert _verdict(url) == (0, "streaming")
        assert server.test_config().returncode == 0


def test_fix_nginx_reload_option_applies_the_fix(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    with scripted_server(STREAM) as backend:
        server = nginx(_seed_with(backend.port, "        proxy_read_timeout 90;\n"))
        url = server.url + "/api/chat/message"
        assert _verdict(url)[1] == "buffered"
        old_workers = server.workers()

        output = _fix(server, backend.port, tmp_path, "--reload")
        assert "nginx -s reload: signal sent" in output
        wait_until(
            lambda: (now := server.workers()) != set() and not (now & old_workers),
            10,
            "nginx workers to be replaced after fix --reload",
        )
        assert _verdict(url) == (0, "streaming")
