"""Every app profile end to end: check nginx --app and probe-stream --app through a real nginx in
front of a scripted backend speaking that app's framing (SSE, OpenAI, Anthropic, NDJSON, ...)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.apps.frames import token_steps
from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, RecordedRequest, Step, scripted_server
from versectl.apps.profile import PROFILE_NAMES, get_profile
from versectl.probe.request import DEFAULT_MESSAGE

pytestmark = pytest.mark.e2e
TOKENS = 40


def _site(backend_port: int) -> str:
    """One location for the app's streams and its WebSocket (Upgrade passed on when asked)."""
    return (
        "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    '' '';\n}\n"
        "server {\n    listen 127.0.0.1:@PORT@;\n    location / {\n"
        f"        proxy_pass http://127.0.0.1:{backend_port};\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_set_header Upgrade $http_upgrade;\n"
        "        proxy_set_header Connection $connection_upgrade;\n"
        "        proxy_buffering off;\n        proxy_cache off;\n        gzip off;\n"
        "        proxy_read_timeout 300s;\n    }\n}\n"
    )


def _versectl(*args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "versectl", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        cwd=cwd,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


LISTED = {
    "/api/tags": {"models": [{"name": "qwen2.5:0.5b"}, {"name": "llama3.2"}]},
    "/v1/models": {"object": "list", "data": [{"id": "served-model", "object": "model"}]},
}
"""What the servers list as their models (Ollama, OpenAI-compatible): the probe asks for the
first one when no --model is given."""


def _backend(framing: str) -> Callable[[RecordedRequest], Plan]:
    steps, headers = token_steps(framing, TOKENS, 0.025)

    def plan_for(request: RecordedRequest) -> Plan:
        if request.path in LISTED:
            body = json.dumps(LISTED[request.path]).encode()
            return Plan([Step(0.0, body)], headers=(("Content-Type", "application/json"),))
        return Plan(steps, headers=headers)

    return plan_for


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_app_profile_check_and_probe_through_nginx(
    name: str, nginx: Callable[[str], NginxServer]
) -> None:
    profile = get_profile(name)
    stream = profile.streams[0]
    with scripted_server(_backend(stream.framing)) as backend:
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
        assert check["locations"][0]["uris"] == list(profile.uris)
        code, probe = _versectl("probe-stream", "--app", name, server.url + stream.uri)
    result = probe["results"][0]
    assert code == 0, (result["advice"], result.get("bursts"), result["arrivals_ms"])
    assert result["verdict"] == "streaming"
    assert result["tokens"] == TOKENS, result
    assert result["terminated"] is (stream.framing not in ("sse",))
    *listing, request = backend.requests
    assert request.path == stream.uri and request.method == "POST"
    # the body is the profile's, with the chat message filled in, and the server's first model
    listed = {"/api/tags": "qwen2.5:0.5b", "/v1/models": "served-model"}.get(
        profile.models_uri or ""
    )
    assert [r.path for r in listing] == ([profile.models_uri] if listed else [])
    assert request.body == stream.request_body(DEFAULT_MESSAGE, listed)


def test_app_doctor_ollama_defaults(nginx: Callable[[str], NginxServer]) -> None:
    """doctor --app ollama: the app's URI, no verse login, the NDJSON framing, the profile's
    heartbeat (60 s: the default proxy_read_timeout 60s is named) in one report."""
    with scripted_server(_backend("ollama")) as backend:
        site = _site(backend.port).replace("        proxy_read_timeout 300s;\n", "")
        server = nginx(site)
        code, doc = _versectl(
            "doctor",
            server.url + "/api/chat",
            "--app",
            "ollama",
            "--config",
            str(server.conf_path),
            "--backend-port",
            str(backend.port),
        )
    probe = doc["probe"]
    assert isinstance(probe, dict)
    target, direct = probe["results"]
    assert (target["verdict"], target["tokens"], direct["tokens"]) == ("streaming", TOKENS, TOKENS)
    # no POST /api/session first: the model list, then the stream through nginx and direct
    assert [r.path for r in backend.requests] == ["/api/tags", "/api/chat", "/api/chat"]
    assert json.loads(backend.requests[1].body)["model"] == "qwen2.5:0.5b"
    check = doc["check"]
    assert isinstance(check, dict) and check["locations"][0]["uris"] == ["/api/chat"]
    assert check["app"] == "ollama"
    assert [f["rule"] for f in check["findings"] if f["severity"] == "error"] == ["read-timeout"]
    assert code == 1, doc["advice"]


def test_app_fix_uses_the_app_uris_and_port(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(
        "server {\n    listen 80;\n    location /api/ {\n"
        "        proxy_pass http://127.0.0.1:9999;\n    }\n}\n"
    )
    code, doc = _versectl("fix", str(conf), "--app", "ollama", cwd=tmp_path)
    assert code == 1, doc
    assert (doc["backend_port"], doc["backend_port_source"]) == (11434, "flag")
    assert "127.0.0.1:11434" in json.dumps(doc)


def test_app_check_recognises_the_compose_image(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(
        "server {\n    listen 80;\n    location / {\n        proxy_pass http://127.0.0.1:3000;\n"
        "        proxy_buffering off;\n    }\n}\n"
    )
    compose = tmp_path / "compose.yml"
    compose.write_text(
        "services:\n  webui:\n    image: ghcr.io/open-webui/open-webui:main\n"
        "    ports: ['127.0.0.1:3000:8080']\n"
    )
    code, doc = _versectl(
        "check", "nginx", str(conf), "--offline", "--compose", str(compose), cwd=tmp_path
    )
    assert (doc["backend_port"], doc["backend_port_source"], doc["app"]) == (
        3000,
        "compose",
        "open-webui",
    )
    assert doc["locations"][0]["uris"] == list(get_profile("open-webui").uris)
    rules = {f["rule"] for f in doc["findings"]}
    assert "websocket-upgrade" in rules and "port-mismatch" not in rules
    assert code == 1
