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
    }
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
    }
    rules = {f["rule"]: f for f in doc["findings"]}
    assert set(rules["port-mismatch"]) == {"rule", "severity", "file", "line", "message", "fix"}
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
