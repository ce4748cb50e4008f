"""The known-good /api block (nginx_templates/api_location.conf) as `versectl fix --write`
puts it into a site with three listeners - plain HTTP/1.1, TLS, TLS + HTTP/2 - streams over
every transport and to a real Chromium over HTTP/2 and over HTTP/1.1, with verse_backend and a
conforming backend (chunks, no X-Accel-Buffering) behind it. Before the fix, the site is the
issue's config (`proxy_http_version 1.1`, buffering on): held for HTTP/1.1 over TLS.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.cli import run_fix
from tests.nginx.streaming import Reading, read_stream, verdict
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
BEFORE: dict[str, str] = {}
"""The conforming backend's verdict over HTTP/1.1+TLS before the fix."""


def issue_site(backend_port: int, tls: TlsFiles) -> str:
    """The issue's config: HTTP/1.1 upstream, buffering left on (held for HTTP/1.1 over TLS)."""
    return (
        f"server {{\n    {listen_lines(tls)}\n"
        f"    location /api {{\n        proxy_pass http://127.0.0.1:{backend_port};\n"
        f"        proxy_http_version 1.1;\n    }}\n{PROBE_LOCATION}}}\n"
    )


def conforming_verdict(
    backend: ScriptedServer, listeners: Listeners, transport: str, tls: TlsFiles, gzip: bool
) -> tuple[str, Reading]:
    """One stream from the conforming backend, judged against its send times."""
    body = json.dumps({"message": f"{transport} {gzip} {len(backend.exchanges)}"}).encode()
    reading = read_stream(
        listeners.url(transport) + CHAT,
        gzip=gzip,
        body=body,
        transport=transport,
        verify=tls.client_context(),
    )
    sent = [ns / 1e9 for r, sent_ns in list(backend.exchanges) if r.body == body for ns in sent_ns]
    return verdict(reading, sent[1:]), reading  # sent[0] is the marker, sent with the headers


def apply_fix(listeners: Listeners, backend_port: int, cwd: Path) -> None:
    """`versectl fix --write` on the running site (validated with its nginx.conf), then reload."""
    server = listeners.server
    done = run_fix(
        server.site_path, "--write", "--nginx-conf", server.conf_path,
        "--backend-port", str(backend_port), cwd=cwd,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "proxy_buffering off;" in server.site_path.read_text()
    server.reload()


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
    tmp = tmp_path_factory.mktemp("known-good-verse")
    with running_listeners(tmp / "nginx", issue_site(port, tls_files)) as listeners:
        apply_fix(listeners, port, tmp)
        yield listeners


@pytest.fixture(scope="module")
def conforming_nginx(
    conforming: ScriptedServer, tls_files: TlsFiles, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Listeners]:
    tmp = tmp_path_factory.mktemp("known-good-conforming")
    site = issue_site(conforming.port, tls_files)
    with running_listeners(tmp / "nginx", site) as listeners:
        BEFORE["http1.1+tls"], _ = conforming_verdict(
            conforming, listeners, "http1.1+tls", tls_files, gzip=False
        )
        apply_fix(listeners, conforming.port, tmp)
        yield listeners


def test_known_good_fix_was_needed(conforming_nginx: Listeners) -> None:
    """The site before the fix holds the stream for HTTP/1.1 over TLS (so the streams below
    are the fix's doing, not the site's)."""
    assert BEFORE == {"http1.1+tls": "held"}


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
    found, reading = conforming_verdict(conforming, conforming_nginx, transport, tls_files, gzip)
    assert found == "streams", (reading.error, reading.times)


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
