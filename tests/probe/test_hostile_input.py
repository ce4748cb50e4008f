"""Hostile input to probe-stream: one line, exit 2, bounded memory, nothing lost, never a traceback."""

from __future__ import annotations

import json
import os
import resource
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.probe.bombs import run_measured
from tests.probe.servers import accepting
from tests.support.exit_two import one_line_error
from tests.support.scripted_server import Plan, scripted_server, sse_tokens
from tests.support.tls import make_tls_files


def _run(*args: str, limit_file_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # Python ignores SIGXFSZ: a write past the limit fails like ENOSPC
        if limit_file_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run(
        [sys.executable, "-m", "versectl", "probe-stream", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=limit,  # the child has no threads before exec
        check=False,
    )


def test_hostile_data_from_dev_zero_is_refused_in_bounded_memory() -> None:
    done = run_measured(["probe-stream", "http://127.0.0.1:9/x", "-d", "@/dev/zero"], kill_after=30)
    assert done.returncode == 2
    assert done.rss_mib < 150
    line = one_line_error(_run("http://127.0.0.1:9/x", "-d", "@/dev/zero"))
    assert "not a regular file" in line


def test_hostile_json_file_in_a_missing_directory_fails_before_probing() -> None:
    with scripted_server(Plan(sse_tokens(15, 0.02))) as server:
        done = _run(server.url + "/x", "--json-file", "/nonexistent/x.json")
        assert server.requests == []  # refused before the stream was spent
    assert "/nonexistent does not exist" in one_line_error(done)


def test_hostile_json_file_on_a_full_disk_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text('{"previous": true}\n')
    with scripted_server(Plan(sse_tokens(15, 0.02))) as server:
        done = _run(server.url + "/x", "--json-file", str(target), limit_file_bytes=64)
    assert "cannot write --json-file" in one_line_error(done)
    assert json.loads(target.read_text()) == {"previous": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]  # no temporary left


def test_hostile_json_file_is_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    with scripted_server(Plan(sse_tokens(15, 0.02))) as server:
        done = _run(server.url + "/x", "--json-file", str(target), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text()) == json.loads(done.stdout)


@contextmanager
def _tls_server(tmp_path: Path) -> Iterator[int]:
    """A real TLS listener (Python's ssl, a fresh test certificate) that handshakes."""
    files = make_tls_files(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)

    def handle(conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
        except (OSError, ssl.SSLError):
            pass  # plain HTTP on a TLS port: the handshake fails, the socket closes

    with accepting(handle) as port:
        yield port


def test_hostile_plain_http_to_a_tls_port_says_what_happened(tmp_path: Path) -> None:
    with _tls_server(tmp_path) as port:
        done = _run(f"http://127.0.0.1:{port}/api/x", "--format", "json")
    assert done.returncode == 2
    error = json.loads(done.stdout)["results"][0]["error"]
    assert error["kind"] == "protocol"
    assert error["message"] == (
        "the server closed the connection without an HTTP response (a TLS port addressed as http://?)"
    )


def test_hostile_body_cut_off_mid_stream_says_why() -> None:
    plan = Plan(sse_tokens(4, 0.01, done=False), close_mid_body=True, framing="chunked")
    with scripted_server(plan) as server:
        done = _run(server.url + "/x", "--format", "json")
    error = json.loads(done.stdout)["results"][0]["error"]
    assert error["kind"] == "protocol"
    prefix = "the server broke the response off: "
    assert error["message"].startswith(prefix) and error["message"] != prefix
