"""With --format json every command's error is one JSON document on stdout, one line on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.probe.servers import closed_port


def _versectl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "versectl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _parse_error_config(directory: Path) -> Path:
    """nginx.conf whose line 100 is a stray `}`: the error reads `nginx.conf:100: ...`."""
    path = directory / "nginx.conf"
    path.write_text("events {}\n" + "# filler\n" * 98 + "}\n")
    return path


CASES = {
    "check-missing-file": (["check", "nginx", "/nonexistent/nginx.conf"], "config_load"),
    "probe-bad-url": (["probe-stream", "ftp://example.org/"], "input"),
    "probe-usage": (["probe-stream", "http://127.0.0.1/x", "-n", "many"], "usage"),
    "probe-bad-body": (["probe-stream", "http://127.0.0.1/x", "-d", "{nope"], "input"),
    "fix-missing-file": (["fix", "/nonexistent/site.conf"], None),
    "doctor-bad-url": (["doctor", "not a url"], "input"),
    "rules-usage": (["rules", "--bogus"], "usage"),
    "explain-unknown": (["explain", "no-such-rule"], "input"),
}


@pytest.mark.parametrize(("args", "kind"), CASES.values(), ids=CASES.keys())
def test_json_errors_one_document_with_an_error_object(args: list[str], kind: str | None) -> None:
    done = _versectl(*args, "--format", "json")
    assert done.returncode == 2, done.stderr
    document = json.loads(done.stdout)  # the whole of stdout: one document
    assert document["version"] == 1
    error = document["error"]
    assert set(error) >= {"kind", "message"} and error["message"]
    if kind is not None:
        assert error["kind"] == kind
    assert done.stderr.strip() == f"error: {error['message']}"  # the same, as one line
    assert "Traceback" not in done.stderr


def test_json_errors_parse_error_carries_file_and_line(tmp_path: Path) -> None:
    config = _parse_error_config(tmp_path)
    done = _versectl("check", "nginx", "--offline", str(config), "--format", "json")
    assert done.returncode == 2
    error = json.loads(done.stdout)["error"]
    assert error["kind"] == "config_parse"
    assert (error["file"], error["line"]) == (str(config), 100)


def test_json_errors_table_format_keeps_stdout_empty() -> None:
    done = _versectl("check", "nginx", "/nonexistent/nginx.conf")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: ")


def test_json_errors_a_probe_failure_is_the_results_document_not_an_error_one() -> None:
    done = _versectl("probe-stream", f"http://127.0.0.1:{closed_port()}/x", "--format", "json")
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert "error" not in document and document["results"][0]["error"]["kind"] == "connect"


def test_json_errors_deeply_nested_config_is_one_error_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "nginx.conf"
    depth = 2000
    config.write_text(
        "events {}\nhttp { server { listen 80; " + "location /a { " * depth + "}" * depth + " } }\n"
    )
    done = _versectl("check", "nginx", "--offline", str(config), "--format", "json")
    assert done.returncode == 2, done.stderr
    assert json.loads(done.stdout)["error"]["message"]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
