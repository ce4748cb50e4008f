"""Loopback ports the kernel just handed out: the one free-port helper of the demo and the tests."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    """`count` distinct ports, all bound at once so the kernel cannot hand one out twice.

    They are released on return: nothing listens there (connecting is refused) until a server
    binds one, and another process may take one meanwhile, so a caller that starts a server on
    them retries on "Address already in use" (nginx: also "duplicate listen").
    """
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """One port as `free_ports` gives them."""
    return free_ports(1)[0]
