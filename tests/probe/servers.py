"""Tiny hostile servers the scripted server cannot play: raw bytes on accept, no HTTP parsing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from versectl.demo.ports import free_port


@contextmanager
def accepting(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback listener that calls `handle` on each connection in turn (in a thread), then
    closes it; yields the port. `handle` deals with the client's errors itself."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)  # how often the loop looks at `stop`
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@contextmanager
def raw_server(answer: bytes) -> Iterator[int]:
    """On every connection: read what comes (e.g. a TLS ClientHello), answer `answer`, close.

    Plain-HTTP servers answer a TLS handshake this way (nginx and uvicorn send a 400)."""

    def handle(conn: socket.socket) -> None:
        conn.settimeout(2)
        try:
            conn.recv(4096)
            conn.sendall(answer)
        except OSError:
            pass

    with accepting(handle) as port:
        yield port


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released: connecting is refused)."""
    return free_port()
