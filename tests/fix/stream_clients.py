"""The three client kinds a chat app meets, each timing when every token event arrives over a
real socket: plain HTTP/1.1, HTTP/1.1 over TLS, and HTTP/2 over TLS (curl, ALPN h2)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

KINDS = ("plain", "tls", "h2")
TOKEN = b"event: token"
BODY = b'{"message": "hi", "insight_id": 1, "model": "m", "stream": true}'
TIMEOUT_S = 15.0


@dataclass
class Answer:
    """What one request got: status, headers (lower-case names), token arrival times."""

    kind: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)
    """Seconds after the request was sent at which each `event: token` was first seen."""
    protocol: str = ""
    error: str = ""

    @property
    def spread(self) -> float:
        """Time between the first and the last token: ~0 when nginx held the answer."""
        return self.arrivals[-1] - self.arrivals[0] if len(self.arrivals) > 1 else 0.0

    def describe(self) -> str:
        times = ", ".join(f"{t:.2f}" for t in self.arrivals)
        return (
            f"{self.kind}: status {self.status} {self.protocol} tokens at [{times}] "
            f"{self.error}".strip()
        )


def _record(answer: Answer, body: bytes, seen: int, started: float) -> int:
    count = body.count(TOKEN)
    now = time.monotonic() - started
    answer.arrivals += [now] * (count - seen)
    return count


def _head(answer: Answer, raw: bytes) -> None:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    answer.protocol, answer.status = parts[0], int(parts[1])
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            answer.headers[name.strip().lower()] = value.strip()


def http1(kind: str, port: int, host: str, path: str) -> Answer:
    """POST over HTTP/1.1 on a plain or a TLS socket (no certificate check: a test CA)."""
    answer = Answer(kind)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Accept: text/event-stream\r\nContent-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode() + BODY
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    sock: socket.socket = raw
    try:
        if kind == "tls":
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            context.set_alpn_protocols(["http/1.1"])
            sock = context.wrap_socket(raw, server_hostname=host)
        started = time.monotonic()
        sock.sendall(request)
        data, seen, head_end = b"", 0, -1
        while chunk := sock.recv(65536):
            data += chunk
            if head_end < 0 and (head_end := data.find(b"\r\n\r\n")) >= 0:
                _head(answer, data[:head_end])
            if head_end >= 0:
                seen = _record(answer, data[head_end:], seen, started)
    except (OSError, ValueError, IndexError) as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return answer


def curl_binary() -> str:
    """curl with HTTP/2 (nghttp2), the HTTP/2 client; CI must have it, elsewhere it may skip."""
    found = shutil.which("curl")
    if (
        found is None
        or "HTTP2"
        not in subprocess.run([found, "-V"], capture_output=True, text=True, check=False).stdout
    ):
        message = "curl with HTTP/2 support is needed for the h2 client"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def h2(port: int, host: str, path: str, headers_file: Path) -> Answer:
    """POST over HTTP/2 (curl --http2, ALPN), reading curl's unbuffered output as it comes."""
    answer = Answer("h2")
    command = [
        curl_binary(), "-sS", "-k", "--http2", "-N", "-X", "POST", "--max-time", str(TIMEOUT_S),
        "--resolve", f"{host}:{port}:127.0.0.1", "-H", "Content-Type: application/json",
        "--data-binary", BODY.decode(), "-D", str(headers_file),
        "-w", "%{stderr}%{http_version}", f"https://{host}:{port}{path}",
    ]  # fmt: skip
    started = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        data, seen = b"", 0
        while chunk := os.read(process.stdout.fileno(), 65536):
            data += chunk
            seen = _record(answer, data, seen, started)
        answer.protocol = "HTTP/" + process.stderr.read().decode(errors="replace").strip()
    heads = headers_file.read_bytes().split(b"\r\n\r\n") if headers_file.exists() else [b""]
    last = [h for h in heads if h.strip()]
    if last:
        _head(answer, last[-1])
        answer.protocol = answer.protocol if answer.protocol != "HTTP/" else "?"
    else:
        answer.error = "no response head"
    return answer


def request(kind: str, port: int, host: str, path: str, scratch: Path) -> Answer:
    """One chat request of `kind` ("plain", "tls" or "h2")."""
    if kind == "h2":
        return h2(port, host, path, scratch / f"h2-{time.monotonic_ns()}.headers")
    return http1(kind, port, host, path)
