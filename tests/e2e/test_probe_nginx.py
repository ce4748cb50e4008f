"""probe-stream through a real nginx in front of real backends: the verdicts users will see.

The template location streams; gzip of text/event-stream with buffering holds the stream; a bare
proxy_pass to an HTTP/1.0-style (close-delimited) backend holds a short stream and releases a
long one in ~4 KiB bursts; --direct names the proxy. Over TLS with buffering on, HTTP/2 streams
while HTTP/1.1 is held by nginx's TLS buffer: an https URL gets a verdict per protocol.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from tests.support.backend_server import running_backend
from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, scripted_server, sse_tokens
from tests.support.tls import TlsFiles, https_url, make_tls_files, tls_site

pytestmark = pytest.mark.e2e

HOLDING = (
    "        proxy_http_version 1.1;\n"
    "        proxy_ignore_headers X-Accel-Buffering;\n"  # as if the backend did not send it
    "        gzip on;\n"
    "        gzip_types text/event-stream;\n"
)


def _site(backend_port: int, location_body: str) -> str:
    return (
        "server {\n    listen 127.0.0.1:@PORT@;\n"
        f"    location /api {{\n        proxy_pass http://127.0.0.1:{backend_port};\n"
        f"{location_body}    }}\n}}\n"
    )


def _template_site(backend_port: int) -> str:
    location = resources.files("nginx_templates").joinpath("api_location.conf").read_text()
    location = location.replace("127.0.0.1:7776", f"127.0.0.1:{backend_port}")
    return "server {\n    listen 127.0.0.1:@PORT@;\n" + location + "\n}\n"


def _probe(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "versectl", "probe-stream", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _port(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


BACKEND_ENV = {"VERSE_SIM_TOKEN_MS": "12"}


def test_probe_nginx_template_streams_the_real_backend(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    with running_backend(tmp_path, BACKEND_ENV) as base:
        server = nginx(_template_site(_port(base)))
        code, document = _probe(server.url + "/api/chat/message", "--login")
    result = document["results"][0]  # type: ignore[index]
    assert code == 0, result
    assert result["verdict"] == "streaming" and result["headers"]["server"].startswith("nginx")
    # a held stream comes in one read; a loaded machine may bunch a few 12 ms tokens per read
    assert result["max_events_per_read"] <= result["events"] // 3, result


def test_probe_nginx_gzip_with_buffering_holds_the_real_backend_and_direct_names_nginx(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    with running_backend(tmp_path, BACKEND_ENV) as base:
        server = nginx(_site(_port(base), HOLDING))
        code, document = _probe(
            server.url + "/api/chat/message", "--login", "--direct", base + "/api/chat/message"
        )
    target, direct = document["results"]  # type: ignore[misc]
    assert code == 1, target
    assert target["verdict"] == "buffered", target["evidence"]
    assert target["headers"]["content-encoding"] == "gzip"
    assert direct["verdict"] == "streaming", direct["evidence"]
    attribution = target["attribution"]
    assert attribution["hop"] == "proxy"
    assert "look at nginx (gzip of text/event-stream" in attribution["summary"]
    assert attribution["added_ms_per_token"] > 100  # tokens wait for the end of the answer
    assert any("gzip-event-stream" in line for line in target["advice"])


def test_probe_nginx_bare_proxy_pass_holds_a_short_close_delimited_stream(
    nginx: Callable[[str], NginxServer],
) -> None:
    with scripted_server(Plan(sse_tokens(40, 0.02))) as backend:  # ~1.6 KiB, 0.8 s
        server = nginx(_site(backend.port, ""))
        code, document = _probe(server.url + "/api/x", "--direct", backend.url + "/api/x")
        assert backend.requests[0].version == "HTTP/1.0"
    result, direct = document["results"]  # type: ignore[misc]
    assert (code, result["verdict"]) == (1, "buffered"), result["evidence"]
    assert direct["verdict"] == "streaming", direct["evidence"]
    # the headers were held with the body: TTFB is about the whole answer
    assert result["ttfb_ms"] > 500
    assert any("headers were held" in line for line in result["advice"])
    assert "HTTP/1.0 upstream" in result["attribution"]["summary"]


def test_probe_nginx_default_buffering_releases_a_long_stream_in_4k_bursts(
    nginx: Callable[[str], NginxServer],
) -> None:
    with scripted_server(Plan(sse_tokens(330, 0.005))) as backend:  # ~12.5 KiB, 1.7 s
        server = nginx(_site(backend.port, ""))
        code, document = _probe(server.url + "/api/x")
    result = document["results"][0]  # type: ignore[index]
    assert (code, result["verdict"]) == (1, "partial"), result["evidence"]
    flushed = [b for b in result["bursts"] if b["events"] >= 3][:-1]  # the last one is the rest
    assert flushed, result["bursts"]
    for burst in flushed:  # one memory page of proxy buffer each (4 KiB; 8 on some platforms)
        assert 3000 <= burst["bytes"] <= 8400, result["bursts"]


def test_probe_nginx_template_streams_a_close_delimited_backend(
    nginx: Callable[[str], NginxServer],
) -> None:
    with scripted_server(Plan(sse_tokens(40, 0.02), framing="close")) as backend:
        server = nginx(_template_site(backend.port))
        code, document = _probe(server.url + "/api/x")
    result = document["results"][0]  # type: ignore[index]
    assert (code, result["verdict"]) == (0, "streaming"), result["evidence"]


def _tls_site(certificate: TlsFiles, backend_port: int, location_body: str) -> str:
    body = f"        proxy_pass http://127.0.0.1:{backend_port};\n{location_body}"
    return tls_site(certificate, body)


def test_probe_nginx_tls_h2_streams_while_http11_over_tls_is_held(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    """The issue's config: `listen ssl http2`, proxy_http_version 1.1, buffering on, and a
    backend that chunks without X-Accel-Buffering: browsers stream, SDKs get it at the end."""
    certificate = make_tls_files(tmp_path / "tls")
    with scripted_server(Plan(sse_tokens(40, 0.025))) as backend:
        assert ("X-Accel-Buffering", "no") not in Plan([]).headers
        server = nginx(_tls_site(certificate, backend.port, "        proxy_http_version 1.1;\n"))
        url = https_url(server.port)
        code, document = _probe(url, "--cacert", str(certificate.ca))
        forced_code, forced = _probe(url, "--cacert", str(certificate.ca), "--http2")
    h2, h1 = document["results"]  # type: ignore[misc]
    assert code == 1, (h2["evidence"], h1["evidence"])  # the worst of the two
    assert (h2["http_version"], h2["client"]) == ("HTTP/2", "h2")
    assert (h1["http_version"], h1["client"]) == ("HTTP/1.1", "http1.1+tls")
    assert h2["verdict"] == "streaming", h2["evidence"]
    assert h1["verdict"] == "buffered", h1["evidence"]
    assert set(h1) >= {"url", "status", "events", "arrivals_ms", "itl_ms", "advice"}
    assert "attribution" not in h2
    attribution = h1["attribution"]
    assert attribution["clients"] == ["http1.1+tls"]
    assert attribution["summary"].startswith(
        "held for HTTP/1.1 over TLS only: nginx's TLS buffer (ssl_buffer_size) while "
        "proxy_buffering is on"
    )
    (only,) = forced["results"]  # type: ignore[misc]
    assert (forced_code, only["http_version"], only["verdict"]) == (0, "HTTP/2", "streaming")


def test_probe_nginx_tls_buffering_off_streams_for_both_and_direct_agrees(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    certificate = make_tls_files(tmp_path / "tls")
    with scripted_server(Plan(sse_tokens(40, 0.025))) as backend:
        site = _tls_site(certificate, backend.port, "        proxy_buffering off;\n")
        server = nginx(site)
        code, document = _probe(
            https_url(server.port),
            "--cacert",
            str(certificate.ca),
            "--direct",
            backend.url + "/api/x",
        )
    h2, h1, direct = document["results"]  # type: ignore[misc]
    assert code == 0, (h2["evidence"], h1["evidence"])
    assert [r["http_version"] for r in (h2, h1, direct)] == ["HTTP/2", "HTTP/1.1", "HTTP/1.1"]
    assert [r["role"] for r in (h2, h1, direct)] == ["target", "target", "direct"]
    assert h2["verdict"] == h1["verdict"] == direct["verdict"] == "streaming"
    assert h1["attribution"]["hop"] == h2["attribution"]["hop"] == "none"


def test_probe_nginx_tls_table_shows_both_verdicts_side_by_side(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    certificate = make_tls_files(tmp_path / "tls")
    with scripted_server(Plan(sse_tokens(40, 0.025))) as backend:
        server = nginx(_tls_site(certificate, backend.port, "        proxy_http_version 1.1;\n"))
        done = subprocess.run(
            [sys.executable, "-m", "versectl", "probe-stream", https_url(server.port),
             "--cacert", str(certificate.ca)],
            capture_output=True, text=True, timeout=90, check=False,
            env={**os.environ, "COLUMNS": "140"},
        )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("HTTP/2 over TLS"))
    verdicts = next(line for line in lines if line.startswith("verdict ") and "buffered" in line)
    assert "HTTP/1.1 over TLS" in header
    assert verdicts.index("streaming") < verdicts.index("buffered")  # h2 left, HTTP/1.1 right
    assert "held for HTTP/1.1 over TLS only" in " ".join(done.stdout.split())
