"""The probe's connect_to (doctor's look at this machine's nginx): TCP goes to the given address
while the URL's name stays the Host header, the TLS SNI and the name the certificate must carry,
so nginx picks the public server block, not its default one."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, scripted_server, sse_tokens
from versectl.probe.analysis import analyze
from versectl.probe.client import probe_stream
from versectl.probe.record import ProbeRequest

pytestmark = pytest.mark.e2e
NAME = "chat.example.test"


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def test_connect_to_keeps_the_name_for_sni_and_host(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    public = _certificate(tmp_path / "public", NAME)
    other = _certificate(tmp_path / "other", "default.invalid")
    with scripted_server(Plan(sse_tokens(20, 0.02))) as backend:
        site = (
            # the default server (first, default_server) holds another name's certificate
            f"server {{\n  listen 127.0.0.1:@PORT@ ssl default_server;\n"
            f"  ssl_certificate {other[0]};\n  ssl_certificate_key {other[1]};\n"
            "  return 421;\n}\n"
            f"server {{\n  listen 127.0.0.1:@PORT@ ssl;\n  server_name {NAME};\n"
            f"  ssl_certificate {public[0]};\n  ssl_certificate_key {public[1]};\n"
            f"  location /api {{ proxy_pass http://127.0.0.1:{backend.port}; "
            "proxy_http_version 1.1; proxy_buffering off; }\n}\n"
        )
        server = nginx(site)
        request = ProbeRequest(
            url=f"https://{NAME}:{server.port}/api/chat/message",
            connect_to=("127.0.0.1", server.port),
            cacert=str(public[0]),
        )
        record = asyncio.run(probe_stream(request))
    assert record.error is None and record.status == 200, record.error
    assert analyze(record).judgement.verdict == "streaming"
    (seen,) = backend.requests
    assert seen.path == "/api/chat/message"
