"""The known-good /api block (nginx_templates/api_location.conf, as `versectl fix` writes it:
the shipped text with the backend's port) streams over every transport - plain HTTP/1.1,
HTTP/1.1 over TLS, HTTP/2 over TLS - and to a real Chromium over HTTP/2 and over HTTP/1.1,
with verse_backend and a conforming backend (chunks, no X-Accel-Buffering) behind it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import nginx_templates
from tests.nginx.streaming import read_stream, verdict
from tests.nginx.truth import (
    CHAT,
    VERSE_TOKEN_MS,
    VerseBackend,
    client_side_verdict,
    scripted_plan,
)
from tests.support.browser import PROBE_LOCATION, Browser, require_chromium
from tests.support.scripted_server import ScriptedServer, scripted_server
from tests.support.tls import TRANSPORTS, Listeners, TlsFiles, listen_lines, running_listeners
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Severity
from versectl.nginx.load import load_config

pytestmark = pytest.mark.e2e
VERSE_BODY = json.dumps({"message": "hi", "insight_id": 1}).encode()


def known_good_site(backend_port: int, tls: TlsFiles) -> str:
    """A three-listener server around the shipped block, its port set as `versectl fix` does."""
    block = re.sub(
        r"proxy_pass http://127\.0\.0\.1:\d+;",
        f"proxy_pass http://127.0.0.1:{backend_port};",
        nginx_templates.api_location(),
    )
    assert f":{backend_port};" in block
    indented = "".join(f"    {line}" if line.strip() else line for line in block.splitlines(True))
    return f"server {{\n    {listen_lines(tls)}\n{indented}\n{PROBE_LOCATION}}}\n"


@pytest.fixture(scope="module")
def verse() -> Iterator[VerseBackend]:
    from tests.support.backend_server import running_backend

    with (
        tempfile.TemporaryDirectory() as tmp,
        running_backend(Path(tmp), {"VERSE_SIM_TOKEN_MS": str(VERSE_TOKEN_MS)}) as url,
    ):
        backend = VerseBackend(url)
        read_stream(f"{url}{CHAT}", gzip=False, cookie=backend.login())  # warm up the process
        yield backend


@pytest.fixture(scope="module")
def conforming() -> Iterator[ScriptedServer]:
    with scripted_server(scripted_plan("conforming", silent=False)) as backend:
        yield backend


@pytest.fixture(scope="module")
def verse_nginx(
    verse: VerseBackend, tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Listeners]:
    port = int(verse.url.rsplit(":", 1)[1])
    site = known_good_site(port, tls_files)
    with running_listeners(tmp_path_factory.mktemp("known-good-verse"), site) as listeners:
        yield listeners


@pytest.fixture(scope="module")
def conforming_nginx(
    conforming: ScriptedServer, tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Listeners]:
    site = known_good_site(conforming.port, tls_files)
    with running_listeners(tmp_path_factory.mktemp("known-good-conf"), site) as listeners:
        yield listeners


def test_known_good_block_is_clean_for_check(verse: VerseBackend, verse_nginx: Listeners) -> None:
    """`check nginx` has no error for the site the streams below go through."""
    port = int(verse.url.rsplit(":", 1)[1])
    result = run_check(
        load_config([str(verse_nginx.server.site_path)]),
        CheckOptions(backend_port=port, offline=True),
    )
    errors = [f.rule for f in result.findings if f.severity == Severity.error]
    assert errors == []


@pytest.mark.parametrize("gzip", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_known_good_streams_verse_backend(
    transport: str, gzip: bool, verse: VerseBackend, verse_nginx: Listeners, tls_files: TlsFiles
) -> None:
    reading = read_stream(
        verse_nginx.url(transport) + CHAT,
        gzip=gzip,
        cookie=verse.login(),
        transport=transport,
        verify=tls_files.client_context(),
    )
    found = client_side_verdict(reading)
    assert found == "streams", (found, reading.error, len(reading.times), reading.spread)


@pytest.mark.parametrize("gzip", [False, True], ids=["identity", "gzip"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_known_good_streams_conforming_backend(
    transport: str,
    gzip: bool,
    conforming: ScriptedServer,
    conforming_nginx: Listeners,
    tls_files: TlsFiles,
) -> None:
    body = json.dumps({"message": f"known good {transport} {gzip}"}).encode()
    reading = read_stream(
        conforming_nginx.url(transport) + CHAT,
        gzip=gzip,
        body=body,
        transport=transport,
        verify=tls_files.client_context(),
    )
    sent = [
        ns / 1e9 for r, sent_ns in list(conforming.exchanges) if r.body == body for ns in sent_ns
    ]
    assert verdict(reading, sent[1:]) == "streams", (reading.error, reading.times, sent)


@pytest.mark.parametrize("http2", [True, False], ids=["h2", "http1.1"])
def test_known_good_streams_to_chromium(
    http2: bool,
    browsers: tuple[Browser, ...],
    verse_nginx: Listeners,
    conforming: ScriptedServer,
    conforming_nginx: Listeners,
) -> None:
    """Chromium loads the page from the `ssl http2` port (a production :443) and reads the
    chat stream with fetch; the one with --disable-http2 must have spoken http/1.1 there."""
    require_chromium()
    browser = next(b for b in browsers if b.http2 == http2)
    reading = browser.read(verse_nginx.url("h2"), CHAT, VERSE_BODY, login=True)
    assert reading.status == 200, (reading.status, reading.text[:200])
    assert reading.protocol == browser.expected_protocol, reading.error
    assert client_side_verdict(reading) == "streams", (reading.error, reading.times)
    body = json.dumps({"message": f"known good browser {http2}"}).encode()
    reading = browser.read(conforming_nginx.url("h2"), CHAT, body)
    sent = [
        ns / 1e9 for r, sent_ns in list(conforming.exchanges) if r.body == body for ns in sent_ns
    ]
    assert reading.protocol == browser.expected_protocol, reading.error
    assert verdict(reading, sent[1:]) == "streams", (reading.error, reading.times, sent)
