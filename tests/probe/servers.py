"""Tiny hostile servers the scripted server cannot play: raw bytes on accept, no HTTP parsing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from versectl.demo.ports import free_port


@contextmanager
def raw_server(answer: bytes) -> Iterator[int]:
    """On every connection: read what comes (e.g. a TLS ClientHello), answer `answer`, close.

    Plain-HTTP servers answer a TLS handshake this way (nginx and uvicorn send a 400)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound then released: connecting is refused)."""
    return free_port()
