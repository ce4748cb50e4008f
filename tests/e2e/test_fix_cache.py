"""Evidence for `proxy_cache off` in the known-good block: after the fix, an answer nginx cached
before it is not served again. proxy_buffering off alone stops new entries from being stored,
but nginx still looks the request up in the cache and serves an old hit at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.fix.cli import run_fix
from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, RecordedRequest, Step, scripted_server

pytestmark = pytest.mark.e2e

# No Cache-Control: nginx may cache it (a backend that says no-cache is never cached).
HEADERS = (("Content-Type", "text/event-stream"),)


def _site(cache_dir: Path, backend_port: int) -> str:
    return (
        f"proxy_cache_path {cache_dir} keys_zone=chat:1m;\n"
        "server {\n    listen 127.0.0.1:@PORT@;\n"
        "    proxy_cache chat;\n    proxy_cache_methods POST;\n    proxy_cache_valid 200 10m;\n"
        f"    location /api {{\n        proxy_pass http://127.0.0.1:{backend_port};\n    }}\n}}\n"
    )


def _answer(url: str) -> str:
    response = httpx.post(url, json={"message": "hi", "insight_id": 1}, timeout=30)
    assert response.status_code == 200
    return response.text


def test_fix_cache_old_answers_are_not_served_after_the_fix(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    def plan_for(request: RecordedRequest) -> Plan:
        del request
        answer = f"data: answer {len(backend.requests)}\n\n".encode()
        return Plan([Step(0.0, answer)], headers=HEADERS, framing="close")

    with scripted_server(plan_for) as backend:
        server = nginx(_site(tmp_path / "cache", backend.port))
        url = server.url + "/api/chat/message"
        assert _answer(url) == "data: answer 1\n\n"
        assert _answer(url) == "data: answer 1\n\n"  # the broken config serves it from the cache
        assert len(backend.requests) == 1

        done = run_fix(server.site_path, "--write", "--no-backup", "--nginx-conf", server.conf_path,
                       "--backend-port", str(backend.port), cwd=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        server.reload()
        assert _answer(url) == "data: answer 2\n\n"  # fresh: the fixed block does not look up

        # Control: the same block without `proxy_cache off` serves the old cached answer again.
        fixed = server.site_path.read_text()
        assert fixed.count("        proxy_cache off;\n") == 1
        server.site_path.write_text(fixed.replace("        proxy_cache off;\n", ""))
        server.reload()
        assert _answer(url) == "data: answer 1\n\n"
        assert len(backend.requests) == 2
