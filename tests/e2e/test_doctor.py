"""`versectl doctor` through a real nginx in front of the real backend: advice from both halves;
over TLS, the probe per protocol read with the client kinds of check's findings."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

import nginx_templates
from tests.probe.records import record_from_reads, steady
from tests.support.backend_server import running_backend
from tests.support.nginx import NginxServer, free_port
from tests.support.scripted_server import Plan, scripted_server, sse_tokens
from tests.support.tls import https_url, make_tls_files, tls_site
from versectl.demo.story import BROKEN_SITE
from versectl.doctor import diagnose, protocol_advice
from versectl.nginx.finding import Finding, Severity
from versectl.probe.analysis import analyze
from versectl.probe.protocol import HttpVersion
from versectl.probe.runner import ProbeOutcome, TargetProbe
from versectl.probe.verdict import Verdict

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


def test_doctor_tls_reads_the_probe_per_protocol_with_the_check(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    """The issue's config over `listen ssl http2`, a backend that chunks without
    X-Accel-Buffering: browsers (HTTP/2) stream, SDKs (HTTP/1.1 over TLS) get it at the end."""
    certificate = make_tls_files(tmp_path / "tls")
    with scripted_server(Plan(sse_tokens(40, 0.025))) as backend:
        location = (
            f"        proxy_pass http://127.0.0.1:{backend.port};\n"
            "        proxy_http_version 1.1;\n"
        )
        server = nginx(tls_site(certificate, location))
        args = [sys.executable, "-m", "versectl", "doctor", https_url(server.port, CHAT)]
        args += ["--format", "json", "--config", str(server.conf_path), "--no-login"]
        args += ["--backend-port", str(backend.port), "--cacert", str(certificate.ca)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)
    assert doc["verdicts_by_client"] == {"h2": "streaming", "http1.1+tls": "buffered"}
    h2, h1, direct = doc["probe"]["results"]
    assert (h2["http_version"], h1["http_version"], direct["role"]) == (
        "HTTP/2",
        "HTTP/1.1",
        "direct",
    )
    assert done.returncode == 1, doc["advice"]
    advice = doc["advice"][0]
    assert "SDKs get it at the end, browsers stream" in advice, advice
    assert "TLS buffer" in advice and "proxy-buffering" in advice, advice
    assert str(server.site_path) in advice


@dataclass(frozen=True)
class _ModelledFinding(Finding):
    """A finding with the client kinds check's listener model gives it (Finding.clients)."""

    clients: tuple[str, ...] = ("http1.1+tls",)


def _buffering(clients: tuple[str, ...]) -> Finding:
    return _ModelledFinding(
        "proxy-buffering", Severity.error, "site.conf", 4, "held", clients=clients
    )


def test_doctor_protocol_advice_check_agrees_with_the_probe() -> None:
    by_client = {"h2": Verdict.streaming, "http1.1+tls": Verdict.buffered}
    advice = protocol_advice([_buffering(("http1.1+tls",))], by_client)
    assert advice is not None
    assert advice.startswith(
        "check says held for http1.1+tls (proxy-buffering (site.conf:4)); the probe agrees: "
        "SDKs get it at the end, browsers stream"
    )


def test_doctor_protocol_advice_when_check_does_not_name_the_held_clients() -> None:
    by_client = {"h2": Verdict.streaming, "http1.1+tls": Verdict.partial}
    everyone = protocol_advice([_buffering(("http1.1", "http1.1+tls", "h2"))], by_client)
    assert everyone is not None and "SDKs get it in bursts, browsers stream" in everyone
    assert "does not say it holds only http1.1+tls" in everyone
    silent = protocol_advice([], by_client)
    assert silent is not None and "check names no buffering finding" in silent
    same = {"h2": Verdict.streaming, "http1.1+tls": Verdict.streaming}
    assert protocol_advice([_buffering(("http1.1+tls",))], same) is None


def test_doctor_plain_probe_streams_and_check_holds_only_tls_clients() -> None:
    stream = analyze(record_from_reads(steady(40, 25.0)))
    probe = ProbeOutcome([TargetProbe(HttpVersion.http1_1, "http1.1", [stream], None)], [stream])
    check = SimpleNamespace(findings=(_buffering(("http1.1+tls",)),))
    diagnosis = diagnose(check, None, probe, None)  # type: ignore[arg-type]
    (advice,) = diagnosis.advice
    assert advice.startswith("check says held for http1.1+tls (proxy-buffering (site.conf:4))")
    assert "give doctor the https:// URL" in advice
    assert diagnosis.exit_code == 1  # the error finding still counts
