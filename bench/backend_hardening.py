"""What verse_backend's hardening costs and buys: the per-token DB write that makes shutdowns
lose nothing, and /api/health under a slowloris flood (300 half-open heads, `ulimit -n 256`).

Prints the figures that README's verse_backend section quotes.

Usage: .venv/bin/python bench/backend_hardening.py [--tokens 1024] [--repeats 5] [--flood 300]
"""

from __future__ import annotations

import argparse
import resource
import selectors
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.backend_server import BackendProcess, running_backend
from verse_backend.store import Conversation, Store

FD_LIMIT = 256
HALF_HEAD = b"GET /api/health HTTP/1.1\r\nHost: verse\r\nX-Slow: "


def bench_appends(tokens: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "verse.sqlite3")
        store.begin_turn(Conversation("c", "s", None), "question")
        per_token: list[float] = []
        for _ in range(repeats):
            answer_id = store.start_answer("c")
            start = time.perf_counter()
            for index in range(tokens):
                store.append_answer(answer_id, f" word{index}")
            per_token.append((time.perf_counter() - start) / tokens)
            store.finish_answer(answer_id, "complete")
        store.close()
    print(
        f"store: {tokens} token appends, median {statistics.median(per_token) * 1e6:.0f} us "
        f"per token (min {min(per_token) * 1e6:.0f}, max {max(per_token) * 1e6:.0f}; "
        f"{repeats} runs)"
    )


def _low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


def _flood(port: int, count: int) -> list[socket.socket]:
    sockets = []
    with selectors.DefaultSelector() as selector:
        for _ in range(count):
            sock = socket.socket()
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            selector.register(sock, selectors.EVENT_WRITE)
            sockets.append(sock)
        waiting = count
        while waiting:
            for key, _ in selector.select(timeout=60):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                selector.unregister(sock)
                waiting -= 1
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    sock.setblocking(True)
                    sock.sendall(HALF_HEAD)
    return sockets


def bench_slowloris(flood: int) -> None:
    handle = BackendProcess()
    with tempfile.TemporaryDirectory() as tmp:
        with running_backend(
            Path(tmp), entry="verse-backend", preexec_fn=_low_fd_limit, handle=handle
        ) as base_url:
            url = f"{base_url}/api/health"
            httpx.get(url, timeout=60).raise_for_status()
            started = time.perf_counter()
            sockets = _flood(int(base_url.rsplit(":", 1)[1]), flood)
            flooded = time.perf_counter() - started
            latencies = []
            for _ in range(5):
                start = time.perf_counter()
                status = httpx.get(url, timeout=60).status_code
                latencies.append((time.perf_counter() - start) * 1000)
                assert status == 200, status
            for sock in sockets:
                sock.close()
        assert handle.log_path is not None
        text = handle.log_path.read_text(errors="replace")
    print(
        f"slowloris: {flood} half-open heads in {flooded:.2f} s under ulimit -n {FD_LIMIT}; "
        f"/api/health then: median {statistics.median(latencies):.0f} ms, max "
        f"{max(latencies):.0f} ms (5 requests); log {text.count(chr(10))} lines, "
        f"{text.count('Too many open files')} EMFILE"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--flood", type=int, default=300)
    args = parser.parse_args()
    bench_appends(args.tokens, args.repeats)
    bench_slowloris(args.flood)


if __name__ == "__main__":
    main()
