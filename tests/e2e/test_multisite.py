"""Three sites on one real nginx TLS listener - a default that only redirects, the chat site by
name, another site that holds the stream - and check, doctor and fix judging only the server a
request for chat.example reaches (issue 13)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import trustme

from tests.fix.cli import run_fix
from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, ScriptedServer, scripted_server, sse_tokens

CHAT = "/api/chat/message"
DEFAULT_SITE = (
    "server {\n"
    "    listen 127.0.0.1:@PORT@ ssl http2 default_server;\n"
    "    server_name _;\n"
    "    return 301 https://chat.example:@PORT@$request_uri;\n"
    "}\n"
)
CHAT_SITE = (
    "server {\n"
    "    listen 127.0.0.1:@PORT@ ssl;\n"
    "    server_name chat.example;\n"
    "    location /api/ {\n"
    "        proxy_pass http://127.0.0.1:@CHAT_PORT@;\n"
    "        proxy_read_timeout 90;\n"
    "    }\n"
    "}\n"
)
"""An HTTP/1.0 upstream with proxy_buffering on: nginx holds the stream until the fix."""
OTHER_SITE = (
    "server {\n"
    "    listen 127.0.0.1:@PORT@ ssl;\n"
    "    server_name other.example;\n"
    "    location /api/ {\n"
    "        proxy_pass http://127.0.0.1:@OTHER_PORT@;\n"
    "        proxy_http_version 1.1;\n"
    "        gzip on;\n"
    "        gzip_types text/event-stream;\n"
    "    }\n"
    "}\n"
)


def _versectl(*args: str | Path) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "versectl", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def _lines(block_start: int, block: str) -> range:
    return range(block_start, block_start + block.count("\n"))


def _cited_lines(texts: list[str], site: Path) -> set[int]:
    """Every `site:LINE` an advice line names."""
    return {int(n) for text in texts for n in re.findall(re.escape(str(site)) + r":(\d+)", text)}


def _start(
    nginx: Callable[[str], NginxServer], tmp_path: Path, chat: ScriptedServer, other: ScriptedServer
) -> tuple[NginxServer, Path]:
    ca = trustme.CA()
    leaf = ca.issue_cert("chat.example", "other.example", "unknown.example")
    cert, key, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    sites = (DEFAULT_SITE + CHAT_SITE + OTHER_SITE).replace("@CHAT_PORT@", str(chat.port))
    sites = sites.replace("@OTHER_PORT@", str(other.port))
    # http-level: every server inherits the one certificate (SNI picks the server, not the cert)
    server = nginx(f"ssl_certificate {cert};\nssl_certificate_key {key};\n{sites}")
    return server, ca_file


def test_multisite_check_doctor_and_fix_judge_only_the_chat_server(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    plan = Plan(sse_tokens(40, 0.025))
    with scripted_server(plan) as chat, scripted_server(plan) as other:
        server, ca_file = _start(nginx, tmp_path, chat, other)
        site, conf, port = server.site_path, server.conf_path, server.port
        head = 3  # the two ssl_certificate lines come first
        chat_lines = _lines(head + DEFAULT_SITE.count("\n"), CHAT_SITE)
        other_lines = _lines(chat_lines.stop, OTHER_SITE)
        url = f"https://chat.example:{port}{CHAT}"
        check = ("check", "nginx", conf, "--backend-port", str(chat.port), "--offline")

        # check without --host: a verdict per server, the other site's error counted
        code, every = _versectl(*check)
        assert code == 1
        by_line = {s["line"]: s["summary"] for s in every["servers"]}  # type: ignore[index,union-attr]
        assert by_line[other_lines.start]["error"] >= 1  # type: ignore[index]
        assert chat_lines.start in by_line and every["selection"] is None

        # doctor before the fix: it blames the chat site's block, and only that
        doctor = ("doctor", url, "--config", conf, "--backend-port", str(chat.port))
        doctor += ("--no-login", "--cacert", str(ca_file))
        doctor += ("--resolve", f"chat.example:{port}:127.0.0.1")
        code, before = _versectl(*doctor)
        assert code == 1, before["advice"]
        assert set(before["verdicts_by_client"].values()) <= {"buffered", "partial"}  # type: ignore[union-attr]
        cited = _cited_lines(before["advice"], site)  # type: ignore[arg-type]
        assert cited and cited <= set(chat_lines), before["advice"]
        reached = before["reached"]
        assert reached == [
            f"the request for chat.example:{port} reaches server chat.example (server_name "
            f"chat.example) in {site.parent.name}/{site.name}:{chat_lines.start}"
        ], reached
        assert not other.requests  # the probe reached chat.example's backend, no other
        assert chat.requests and {r.path for r in chat.requests} == {CHAT}

        # fix --host: only the chat server's block changes; nginx -t passes; reload
        original = site.read_text()
        done = run_fix(
            site, "--write", "--nginx-conf", conf, "--host", "chat.example",
            "--port", str(port), "--backend-port", str(chat.port), cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        fixed = site.read_text()
        old, new = original.splitlines(keepends=True), fixed.splitlines(keepends=True)
        assert new[: chat_lines.start - 1] == old[: chat_lines.start - 1]  # default site
        assert new[-len(_lines(0, OTHER_SITE)) :] == old[other_lines.start - 1 :]  # other site
        assert fixed != original and "proxy_buffering off;" in fixed
        server.reload()

        # check --host chat.example: only the chat site is judged, and it is clean
        code, judged = _versectl(*check, "--host", "chat.example")
        assert code == 0, judged["findings"]
        assert [s["server_names"] for s in judged["servers"]] == [["chat.example"]]  # type: ignore[index,union-attr]
        assert judged["selection"] == [
            {
                "file": str(site),
                "line": chat_lines.start,
                "server_names": ["chat.example"],
                "listen": f"127.0.0.1:{port}",
                "reason": "server_name chat.example",
            }
        ]
        code, every = _versectl(*check)
        assert code == 1  # the other site is still broken, and check without --host says so

        # doctor after the fix: streams for every client, names nothing of the other site
        chat.requests.clear()
        code, after = _versectl(*doctor)
        advice: list[str] = after["advice"]  # type: ignore[assignment]
        assert after["verdicts_by_client"] == {"h2": "streaming", "http1.1+tls": "streaming"}
        assert code == 0, advice
        assert not _cited_lines(advice, site) & set(other_lines), advice
        assert after["check"]["summary"]["error"] == 0  # type: ignore[index]
        assert not other.requests and chat.requests


def test_multisite_probe_stream_resolve_reaches_the_named_server(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    """--resolve keeps Host and SNI: other.example reaches the other site's backend, and a name
    no server has gets the default server's redirect, followed to chat.example."""
    plan = Plan(sse_tokens(5, 0.01))
    with scripted_server(plan) as chat, scripted_server(plan) as other:
        server, ca_file = _start(nginx, tmp_path, chat, other)
        port = server.port
        base = ("probe-stream", "--http1.1", "--cacert", str(ca_file))
        for name in ("other.example", "chat.example"):
            base += ("--resolve", f"{name}:{port}:127.0.0.1")
        _code, doc = _versectl(*base, f"https://other.example:{port}{CHAT}")
        assert doc["results"][0]["status"] == 200  # type: ignore[index]
        assert len(other.requests) == 1 and not chat.requests
        # unknown.example resolves to the same listener; the default server redirects it
        _code, doc = _versectl(
            *base, "--resolve", f"unknown.example:{port}:127.0.0.1",
            f"https://unknown.example:{port}{CHAT}",
        )  # fmt: skip
        result = doc["results"][0]  # type: ignore[index]
        assert [r["status"] for r in result["redirects"]] == [301], result
        assert len(chat.requests) == 1
