"""Slowloris against a real verse-backend under a low file-descriptor limit: health checks still
answer, heads that never complete are closed, and the log stays small."""

from __future__ import annotations

import resource
import selectors
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.backend.sse_client import CHAT_PATH, chat_body, iter_events, new_client
from tests.support.backend_server import BackendProcess, running_backend
from verse_backend.connection_guard import FD_RESERVE, FDS_PER_CONNECTION, connection_cap

FD_LIMIT = 256
HALF_OPEN = 300
HALF_HEAD = b"GET /api/health HTTP/1.1\r\nHost: verse\r\nX-Slow: "
SLOW_BODY_HEAD = (
    b"POST /api/session HTTP/1.1\r\nHost: verse\r\ncontent-type: application/json\r\n"
    b"content-length: 100\r\n\r\n"
)
TIMEOUT_S = 60  # generous: only a server that stopped answering should reach it
MAX_LOG_LINES = 300  # startup, one warning per eviction up to the filter's budget, requests


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@contextmanager
def _guarded_backend(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    handle = BackendProcess()
    with running_backend(
        tmp_path, env, entry="verse-backend", preexec_fn=_low_fd_limit, handle=handle
    ) as url:
        assert handle.log_path is not None
        # Started and serving before the flood (a loaded machine can take seconds to start).
        assert httpx.get(url + "/api/health", timeout=TIMEOUT_S).status_code == 200
        yield url, handle.log_path


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _half_open(stack: ExitStack, url: str, count: int) -> list[socket.socket]:
    """`count` connections that each sent part of a request head, connected all at once (a
    server under attack lets its listen queue overflow; retried SYNs then arrive together)."""
    address = _address(url)
    pending: dict[socket.socket, None] = {}
    with selectors.DefaultSelector() as selector:
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.setblocking(False)
            sock.connect_ex(address)
            selector.register(sock, selectors.EVENT_WRITE)
            pending[sock] = None
        connected: list[socket.socket] = []
        while pending:
            ready = selector.select(timeout=TIMEOUT_S)
            assert ready, f"{len(pending)} connections still pending after {TIMEOUT_S} s"
            for key, _ in ready:
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                selector.unregister(sock)
                del pending[sock]
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                sock.setblocking(True)
                sock.settimeout(TIMEOUT_S)
                sock.sendall(HALF_HEAD)
                connected.append(sock)
    return connected


def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response with a Content-Length (what /api/health sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head


def test_slowloris_leaves_health_checks_answered_and_the_log_small(tmp_path: Path) -> None:
    # A long head deadline: the connection cap alone has to keep the server answering.
    with (
        _guarded_backend(tmp_path, {"VERSE_HEADER_TIMEOUT_S": "120"}) as (url, log_path),
        ExitStack() as stack,
    ):
        _half_open(stack, url, HALF_OPEN)
        statuses = [httpx.get(url + "/api/health", timeout=TIMEOUT_S).status_code for _ in range(5)]
        log_lines = log_path.read_text(errors="replace").count("\n")
    assert statuses == [200] * 5
    assert log_lines < MAX_LOG_LINES, log_path.read_text(errors="replace")[-2000:]
    assert "Too many open files" not in log_path.read_text(errors="replace")


def test_requests_that_never_arrive_completely_are_closed(tmp_path: Path) -> None:
    with (
        _guarded_backend(tmp_path, {"VERSE_HEADER_TIMEOUT_S": "0.5"}) as (url, _log),
        ExitStack() as stack,
    ):
        fresh = _half_open(stack, url, 1)[0]
        # A kept-alive connection that answers one request, then dribbles the next head.
        kept = _half_open(stack, url, 1)[0]
        kept.sendall(b"\r\n\r\n")
        assert _read_response(kept).startswith(b"HTTP/1.1 200")
        kept.sendall(HALF_HEAD)
        # recv returns b"" once the server closed; the socket timeout is the backstop.
        # A complete head, then a body that never completes (slowloris' sibling).
        slow_body = stack.enter_context(socket.create_connection(_address(url), timeout=TIMEOUT_S))
        slow_body.sendall(SLOW_BODY_HEAD + b'{"pass')
        assert fresh.recv(4096) == b""
        assert kept.recv(4096) == b""
        assert slow_body.recv(4096) == b""
        assert httpx.get(url + "/api/health", timeout=TIMEOUT_S).status_code == 200


def test_connection_cap_fits_under_the_fd_limit() -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(10**9)
    assert cap <= max(1, (soft - FD_RESERVE) // FDS_PER_CONNECTION)
    assert connection_cap(3) == min(3, cap)


def test_a_flood_closes_idle_connections_but_not_an_open_stream(tmp_path: Path) -> None:
    env = {"VERSE_MAX_CONNECTIONS": "4", "VERSE_HEADER_TIMEOUT_S": "120", "VERSE_SIM_TOKEN_MS": "5"}
    with _guarded_backend(tmp_path, env) as (url, _log), ExitStack() as stack:
        with (
            new_client(url) as client,
            client.stream("POST", CHAT_PATH, json=chat_body()) as response,
        ):
            events = iter_events(response)
            assert next(events).event == "token"
            _half_open(stack, url, 40)
            rest = [event.event for event in events]
        assert rest[-1] == "done", rest[-3:]
        assert httpx.get(url + "/api/health", timeout=TIMEOUT_S).status_code == 200
