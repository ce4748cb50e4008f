"""Every app profile end to end: check nginx --app and probe-stream --app through a real nginx in
front of a scripted backend speaking that app's framing (SSE, OpenAI, Anthropic, NDJSON, ...)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.apps.frames import token_steps
from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, scripted_server
from versectl.apps.profile import PROFILE_NAMES, get_profile
from versectl.probe.request import DEFAULT_MESSAGE

pytestmark = pytest.mark.e2e
TOKENS = 40


def _site(backend_port: int) -> str:
    return (
        "server {\n    listen 127.0.0.1:@PORT@;\n    location / {\n"
        f"        proxy_pass http://127.0.0.1:{backend_port};\n"
        "        proxy_http_version 1.1;\n        proxy_set_header Connection '';\n"
        "        proxy_buffering off;\n        proxy_cache off;\n        gzip off;\n"
        "        proxy_read_timeout 300s;\n    }\n}\n"
    )


def _versectl(*args: str) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "versectl", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_app_profile_check_and_probe_through_nginx(
    name: str, nginx: Callable[[str], NginxServer]
) -> None:
    profile = get_profile(name)
    stream = profile.streams[0]
    steps, headers = token_steps(stream.framing, TOKENS, 0.025)
    with scripted_server(Plan(steps, headers=headers)) as backend:
        server = nginx(_site(backend.port))
        code, check = _versectl(
            "check",
            "nginx",
            str(server.conf_path),
            "--offline",
            "--app",
            name,
            "--backend-port",
            str(backend.port),
        )
        assert code == 0, check
        assert check["locations"][0]["uris"] == list(profile.uris)  # type: ignore[index]
        code, probe = _versectl("probe-stream", "--app", name, server.url + stream.uri)
    result = probe["results"][0]  # type: ignore[index]
    assert code == 0, result
    assert result["verdict"] == "streaming"
    assert result["tokens"] == TOKENS, result
    assert result["terminated"] is (stream.framing not in ("sse",))
    (request,) = backend.requests
    assert request.path == stream.uri and request.method == "POST"
    # the body is the profile's, with the chat message and the model filled in
    assert request.body == stream.request_body(DEFAULT_MESSAGE)
