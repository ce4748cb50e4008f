"""`versectl check nginx`, `rules` and `explain` as a user runs them: a subprocess, exit codes,
one JSON document on stdout, and one clear line (never a traceback) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from versectl.nginx.rules import RULES

STREAMING = """server {
    listen 80;
    server_name verse.example;
    location /api/ {
        proxy_pass http://127.0.0.1:7776;
        proxy_http_version 1.1;
        proxy_buffering off;
    }
}
"""
SEED = """server {
    listen 80;
    server_name _;
    location /api {
        proxy_pass http://localhost:8000;
        proxy_http_version 1.1;
        proxy_set_header X-Accel-Buffering no;
        proxy_read_timeout 90;
    }
}
"""


def run(
    *args: str, stdin: bytes | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "versectl", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "verse"
    path.write_text(SEED)
    return path


def test_check_nginx_json_contract_shape(site: Path, tmp_path: Path) -> None:
    result = run("check", "nginx", str(site), "--offline", "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {
        "version",
        "files",
        "backend_port",
        "backend_port_source",
        "locations",
        "findings",
        "summary",
        "servers",
        "selection",
        "partial",
        "partial_reasons",
    }
    assert (doc["partial"], doc["partial_reasons"]) == (False, [])
    assert doc["version"] == 1 and doc["files"] == [str(site)]
    assert (doc["backend_port"], doc["backend_port_source"]) == (7776, "default")
    (location,) = doc["locations"]
    assert location == {
        "file": str(site),
        "line": 4,
        "server_names": ["_"],
        "listen": ["80"],
        "match": "/api",
        "uris": ["/api/chat/message", "/api/standalone-chat"],
        "proxy_pass": "http://localhost:8000",
        "targets": [{"host": "localhost", "port": 8000}],
        "listeners": [
            {"address": "*", "port": 80, "ssl": False, "http2": False, "default_server": True}
        ],
        "clients": ["http1.1"],
        "ssl_buffer_size": None,
    }
    rules = {f["rule"]: f for f in doc["findings"]}
    assert set(rules["port-mismatch"]) == {
        "rule",
        "severity",
        "file",
        "line",
        "message",
        "fix",
        "clients",
        "family",
    }
    assert rules["port-mismatch"]["family"] == "routing"
    # a wrong port breaks every transport, and plain HTTP is the only one that reaches this server
    assert rules["port-mismatch"]["clients"] == ["http1.1"]
    assert rules["port-mismatch"]["fix"] == "proxy_pass http://localhost:7776;"
    assert rules["port-mismatch"]["line"] == 5
    assert rules["accel-request-header"]["severity"] == "info"
    assert "read-timeout" not in rules  # 90 s > the 15 s heartbeat: no nagging
    assert doc["summary"] == {
        sev: sum(f["severity"] == sev for f in doc["findings"])
        for sev in ("error", "warning", "info")
    }


def test_check_nginx_exit_codes_and_strict(tmp_path: Path) -> None:
    good = tmp_path / "good.conf"
    good.write_text(STREAMING)
    assert run("check", "nginx", str(good), "--offline", cwd=tmp_path).returncode == 0
    warned = tmp_path / "warned.conf"
    warned.write_text(STREAMING.replace("proxy_buffering off;", ""))
    assert run("check", "nginx", str(warned), "--offline", cwd=tmp_path).returncode == 0
    strict = run("check", "nginx", str(warned), "--offline", "--strict", cwd=tmp_path)
    assert strict.returncode == 1


def test_check_nginx_missing_includes_are_a_partial_verdict(tmp_path: Path) -> None:
    # a certbot site copied without /etc/letsencrypt: checked, not refused
    gone = tmp_path / "etc-letsencrypt" / "options-ssl-nginx.conf"
    copied = tmp_path / "copied.conf"
    copied.write_text(
        STREAMING.replace(
            "listen 80;", f"listen 80;\n    include {gone};\n    include snippets/not-copied.conf;"
        )
    )
    result = run("check", "nginx", str(copied), "--offline", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # warnings only
    doc = json.loads(result.stdout)
    assert doc["partial"] is True
    assert doc["partial_reasons"] == [
        f"{copied}:3: include {gone}: no such file",
        f"{copied}:4: include snippets/not-copied.conf: not found in {tmp_path} or /etc/nginx",
    ]
    missing = [
        (f["line"], f["severity"]) for f in doc["findings"] if f["rule"] == "missing-include"
    ]
    assert missing == [(3, "warning"), (4, "warning")]
    assert len(doc["locations"]) == 1  # the rest was checked
    table = run("check", "nginx", str(copied), "--offline", cwd=tmp_path)
    assert "partial verdict: 2 included files not found, what they set is unknown" in table.stdout
    assert run("check", "nginx", str(copied), "--offline", "--strict", cwd=tmp_path).returncode == 1


def test_check_nginx_missing_include_is_not_unreadable(tmp_path: Path) -> None:
    # there but not a regular file: what nginx does with it is unknown, so exit 2
    (tmp_path / "snippet.conf").mkdir()
    site = tmp_path / "site.conf"
    site.write_text(STREAMING.replace("listen 80;", "listen 80;\n    include snippet.conf;"))
    result = run("check", "nginx", str(site), "--offline", cwd=tmp_path)
    assert result.returncode == 2
    assert "snippet.conf: is a directory" in result.stderr


def test_check_nginx_table_shows_origins_and_fixes(site: Path, tmp_path: Path) -> None:
    result = run("check", "nginx", str(site), "--offline", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "proxy_buffering on (default)" in out
    assert "proxy_read_timeout 90 (location, verse:8)" in out
    assert "port-mismatch" in out and "fix: proxy_pass http://localhost:7776;" in out


def test_check_nginx_options(site: Path, tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.prod.yml"
    compose.write_text('services:\n  backend:\n    ports: ["127.0.0.1:8000:7776"]\n')
    doc = json.loads(
        run("check", "nginx", str(site), "--offline", "--format", "json", cwd=tmp_path).stdout
    )
    assert (doc["backend_port"], doc["backend_port_source"]) == (8000, "compose")
    assert "port-mismatch" not in {f["rule"] for f in doc["findings"]}
    doc = json.loads(
        run(
            "check",
            "nginx",
            str(site),
            "--offline",
            "--format",
            "json",
            "--heartbeat",
            "120",
            "--backend-port",
            "8000",
            "--uri",
            "/api/x",
            cwd=tmp_path,
        ).stdout
    )
    assert doc["backend_port_source"] == "flag"
    assert doc["locations"][0]["uris"] == ["/api/x"]
    assert "read-timeout" in {f["rule"] for f in doc["findings"]}
    none = run(
        "check",
        "nginx",
        str(site),
        "--offline",
        "--server-name",
        "nope.example",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert [f["rule"] for f in json.loads(none.stdout)["findings"]] == ["missing-location"]


def test_check_nginx_reads_nginx_T_from_stdin(tmp_path: Path) -> None:
    dump = (
        "# configuration file /srv/elsewhere/nginx.conf:\nevents {}\nhttp {\n"
        "    include /srv/elsewhere/sites/*;\n}\n\n"
        f"# configuration file /srv/elsewhere/sites/verse:\n{STREAMING}\n"
    )
    result = run(
        "check", "nginx", "-", "--offline", "--format", "json", stdin=dump.encode(), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["files"] == ["/srv/elsewhere/nginx.conf", "/srv/elsewhere/sites/verse"]
    assert doc["locations"][0]["file"] == "/srv/elsewhere/sites/verse"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("server {\n  location /api {\n", "unexpected end of file"),
        ("server { proxy_buffering maybe; }\n", ":1: invalid value"),
        ("server {\n listen 70000 ssl;\n}\n", ':2: invalid port in "70000"'),
        ("server { listen [::1 ssl; }\n", "invalid IPv6 address"),
    ],
)
def test_check_nginx_bad_input_exit_2(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "site.conf"
    if content is not None:
        path.write_text(content)
    result = run("check", "nginx", str(path), "--offline", "--format", "json", cwd=tmp_path)
    assert result.returncode == 2
    # stdout: one document with the error (issue 14); the message is also on stderr
    assert expected in json.loads(result.stdout)["error"]["message"]
    # one message (rich may wrap it on a narrow terminal: compare without the line breaks)
    assert result.stderr.startswith("error:")
    assert expected in "".join(result.stderr.splitlines())


TLS_SITE = """server {
    listen 80;
    listen 443 ssl http2;
    server_name chat.example;
    location /api { proxy_pass http://127.0.0.1:7776; proxy_http_version 1.1; }
}
server {
    listen 8443 ssl;
    server_name sdk.example;
    ssl_buffer_size 1k;
    location /api { proxy_pass http://127.0.0.1:7776; proxy_buffering off; }
}
"""


def test_check_nginx_names_listeners_and_clients(tmp_path: Path) -> None:
    path = tmp_path / "tls.conf"
    path.write_text(TLS_SITE)
    table = run("check", "nginx", str(path), "--offline", cwd=tmp_path)
    assert table.returncode == 1, table.stderr  # an error for one kind of client is an error
    assert (
        "listeners *:80 default_server, *:443 ssl h2 default_server; ssl_buffer_size 16k (default)"
        in table.stdout
    )
    assert "listeners *:8443 ssl default_server; ssl_buffer_size 1k (server, tls.conf:10)" in (
        table.stdout
    )
    assert "for HTTP/1.1 over TLS clients (SDKs, curl --http1.1)\n" in table.stdout
    doc = json.loads(run("check", "nginx", str(path), "--offline", "--format", "json").stdout)
    chat, sdk = doc["locations"]
    assert chat["listeners"] == [
        {"address": "*", "port": 80, "ssl": False, "http2": False, "default_server": True},
        {"address": "*", "port": 443, "ssl": True, "http2": True, "default_server": True},
    ]
    assert chat["clients"] == ["http1.1", "http1.1+tls", "h2"]
    assert (sdk["clients"], sdk["ssl_buffer_size"]) == (["http1.1+tls"], "1k")
    (held,) = [f for f in doc["findings"] if f["rule"] == "proxy-buffering"]
    assert (held["severity"], held["clients"], held["line"]) == ("error", ["http1.1+tls"], 5)
    assert "streams for plain HTTP and HTTP/2 browsers" in held["message"]


MULTI_SITE = """server {
    listen 80 default_server;
    server_name _;
    return 301 https://$host$request_uri;
}
server {
    listen 443 ssl http2;
    server_name chat.example;
    location /api { proxy_pass http://127.0.0.1:7776; proxy_buffering off; }
}
server {
    listen 443 ssl;
    server_name *.other.example;
    location /api { proxy_pass http://127.0.0.1:7776; }
}
"""


def test_check_nginx_host_judges_only_the_server_it_reaches(tmp_path: Path) -> None:
    path = tmp_path / "multi.conf"
    path.write_text(MULTI_SITE)
    pooled = run("check", "nginx", str(path), "--offline", cwd=tmp_path)
    assert pooled.returncode == 1
    assert (
        "on *:443 requests by IP or an unknown name reach server chat.example (multi.conf:6, its "
        "first server), not this one\n"
    ) in pooled.stdout
    assert "server chat.example (multi.conf:6): 0 errors, 0 warnings" in pooled.stdout
    assert "server *.other.example (multi.conf:11): 1 error, 0 warnings" in pooled.stdout
    pooled_doc = json.loads(
        run("check", "nginx", str(path), "--offline", "--format", "json", cwd=tmp_path).stdout
    )
    verdicts = {s["server_names"][0]: s["summary"]["error"] for s in pooled_doc["servers"]}
    assert verdicts == {"chat.example": 0, "*.other.example": 1}
    assert pooled_doc["servers"][1]["clients"] == ["http1.1+tls", "h2"]
    assert pooled_doc["servers"][1]["line"] == 11
    chat = run("check", "nginx", str(path), "--offline", "--host", "Chat.Example", cwd=tmp_path)
    assert chat.returncode == 0, chat.stdout  # the other site's error is not this site's
    assert "Host chat.example on *:443 reaches server chat.example (multi.conf:6): " in (
        chat.stdout
    )
    assert "server_name chat.example" in chat.stdout
    other = run(
        "check",
        "nginx",
        str(path),
        "--offline",
        "--host",
        "a.other.example",
        "--port",
        "443",
        "--format",
        "json",
        cwd=tmp_path,
    )
    assert other.returncode == 1
    doc = json.loads(other.stdout)
    assert doc["selection"] == [
        {
            "file": str(path),
            "line": 11,
            "server_names": ["*.other.example"],
            "listen": "*:443",
            "reason": "server_name *.other.example",
        }
    ]
    assert {loc["server_names"][0] for loc in doc["locations"]} == {"*.other.example"}
    hostless = run("check", "nginx", str(path), "--offline", "--port", "443", cwd=tmp_path)
    assert "a request without Host on *:443 reaches server chat.example" in hostless.stdout
    assert "first server of *:443 (no Host)" in hostless.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--host", "a b"], "--host 'a b': not a host name"),
        (["--port", "99999"], "--port '99999': a port"),
        (["--port", "8080"], "--port 8080: no server listens there"),
    ],
)
def test_check_nginx_host_port_bad_input(tmp_path: Path, args: list[str], expected: str) -> None:
    path = tmp_path / "multi.conf"
    path.write_text(MULTI_SITE)
    result = run("check", "nginx", str(path), "--offline", *args, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert expected in "".join(result.stderr.splitlines())


def test_check_nginx_bad_input_positions(tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text("server {\n    location /api {\n        proxy_pass http://x;\n}\n")
    result = run("check", "nginx", str(path), "--offline", cwd=tmp_path)
    assert result.returncode == 2 and f"{path}:" in result.stderr


def test_check_nginx_huge_stdin_is_refused(tmp_path: Path) -> None:
    blob = b"# configuration file /x.conf:\n" + b"# padding padding padding\n" * 2_100_000
    result = run("check", "nginx", "-", "--offline", stdin=blob, cwd=tmp_path)
    assert result.returncode == 2 and "too large" in result.stderr


@pytest.mark.parametrize("args", [["--uri", "api"], ["--heartbeat", "0"], ["--format", "xml"]])
def test_check_nginx_bad_options_exit_2(site: Path, args: list[str], tmp_path: Path) -> None:
    assert run("check", "nginx", str(site), "--offline", *args, cwd=tmp_path).returncode == 2


def test_rules_lists_every_rule() -> None:
    result = run("rules", "--format", "json")
    assert result.returncode == 0
    listed = json.loads(result.stdout)["rules"]
    assert [r["name"] for r in listed] == [r.name for r in RULES]
    table = run("rules").stdout
    assert all(r.name in table for r in RULES)


def test_explain_renders_every_section() -> None:
    result = run("explain", "gzip-event-stream")
    assert result.returncode == 0
    for title in (
        "What it does",
        "Why it breaks streaming",
        "Example",
        "Use instead",
        "References",
    ):
        assert title in result.stdout
    unknown = run("explain", "no-such-rule")
    assert unknown.returncode == 2 and "proxy-buffering" in unknown.stderr


def test_check_nginx_says_when_only_http2_prior_knowledge_reaches(tmp_path: Path) -> None:
    path = tmp_path / "h2c.conf"
    path.write_text(
        "server { listen 8080 http2;\n"
        "  location /api { proxy_pass http://127.0.0.1:7776; proxy_buffering off; } }\n"
    )
    result = run("check", "nginx", str(path), "--offline", cwd=tmp_path)
    assert "listeners *:8080 h2c-only default_server\n" in result.stdout
    assert "reached by no HTTP/1.1 client or browser" in result.stdout
