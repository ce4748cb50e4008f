"""doctor names the hop in front of nginx: the public URL (a scripted server imitating
Cloudflare, Caddy or Traefik by their headers, holding or compressing the stream) against the
same request sent to this machine's real nginx (--local), which streams a scripted backend."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable

import pytest

import nginx_templates
from tests.support.nginx import NginxServer
from tests.support.scripted_server import SSE_HEADERS, Plan, Step, scripted_server, sse_tokens

pytestmark = pytest.mark.e2e
CHAT = "/api/chat/message"
TOKENS = sse_tokens(40, 0.025)
WHOLE = b"".join(step.data for step in TOKENS)


def _held(headers: tuple[tuple[str, str], ...], body: bytes = WHOLE) -> Plan:
    """A hop that holds the answer: silence for the answer's length, then all of it."""
    return Plan([Step(1.0, body)], headers=(*SSE_HEADERS, *headers), framing="close")


def _doctor(public_url: str, nginx: NginxServer, backend_port: int) -> dict[str, object]:
    args = [sys.executable, "-m", "versectl", "doctor", public_url, "--format", "json"]
    args += ["--config", str(nginx.conf_path), "--backend-port", str(backend_port)]
    args += ["--no-login", "--local", f"127.0.0.1:{nginx.port}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def _site(backend_port: int) -> str:
    block = nginx_templates.api_location().replace("7776", str(backend_port))
    return f"server {{\n    listen 127.0.0.1:@PORT@;\n{block}\n}}\n"


@pytest.mark.parametrize(
    ("headers", "body", "named", "remedy"),
    [
        (
            (("CF-RAY", "8c1f2e3d4a5b6c7d-AMS"), ("Server", "cloudflare")),
            WHOLE,
            "Cloudflare",
            "524",
        ),
        (
            (("Via", "1.1 Caddy"), ("Content-Encoding", "gzip")),
            gzip.compress(WHOLE),
            "Caddy",
            "`encode`",
        ),
        (
            (("Server", "traefik"), ("Content-Encoding", "gzip")),
            gzip.compress(WHOLE),
            "Traefik",
            "excludedContentTypes",
        ),
        (
            (("Content-Encoding", "gzip"),),
            gzip.compress(WHOLE),
            "a compressing proxy",
            "no-transform",
        ),
    ],
)
def test_doctor_names_the_hop_in_front(
    nginx: Callable[[str], NginxServer],
    headers: tuple[tuple[str, str], ...],
    body: bytes,
    named: str,
    remedy: str,
) -> None:
    with (
        scripted_server(Plan(TOKENS)) as backend,
        scripted_server(_held(headers, body)) as front,
    ):
        server = nginx(_site(backend.port))
        doc = _doctor(front.url + CHAT, server, backend.port)
        # the public URL was probed (the hop), and so was this machine's nginx (local below)
        assert front.requests and front.requests[0].path == CHAT
    local = doc["local"]
    assert isinstance(local, list) and local[0]["verdict"] == "streaming", local
    probe = doc["probe"]
    assert isinstance(probe, dict) and probe["results"][0]["verdict"] in ("buffered", "partial")
    advice = doc["advice"]
    assert isinstance(advice, list)
    hop = " ".join(advice[:2])
    assert named in hop and remedy in hop, advice
    if "Content-Encoding" in dict(headers):
        assert (
            "Content-Encoding gzip appears between the public URL and this machine's nginx" in hop
        )


def test_doctor_hops_both_stream_through_cloudflare(nginx: Callable[[str], NginxServer]) -> None:
    cf = (*SSE_HEADERS, ("CF-RAY", "8c1f2e3d4a5b6c7d-AMS"))
    with (
        scripted_server(Plan(TOKENS)) as backend,
        scripted_server(Plan(TOKENS, headers=cf)) as front,
    ):
        server = nginx(_site(backend.port))
        doc = _doctor(front.url + CHAT, server, backend.port)
    advice = doc["advice"]
    assert isinstance(advice, list)
    assert "the stream passes Cloudflare in front of nginx today" in advice, advice
