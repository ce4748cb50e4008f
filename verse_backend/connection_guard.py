"""Slowloris guard for uvicorn's h11 protocol: a deadline for each request (head and body) to
arrive, and a cap on open connections below the file-descriptor limit that makes room by
closing idle ones, oldest first.

uvicorn has neither: `--timeout-keep-alive` only runs between requests (and stops at the first
byte), and `--limit-concurrency` answers 503 only after a complete request head.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

logger = logging.getLogger("uvicorn.error")

# File descriptors kept for what is not a client connection: stdio, the listening socket, the
# SQLite files, logs, the interpreter's own. Each open stream also holds one upstream
# connection to the model API, hence two descriptors per allowed client connection.
FD_RESERVE = 32
FDS_PER_CONNECTION = 2


def connection_cap(configured: int) -> int:
    """`configured`, lowered so that every connection fits under RLIMIT_NOFILE's soft limit:
    past it, accept() fails with EMFILE and the server stops answering anyone."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, (soft - FD_RESERVE) // FDS_PER_CONNECTION))


# h11 states of the client's side while its request has not fully arrived.
_RECEIVING = (h11.IDLE, h11.SEND_BODY)


def accept_backlog(cap: int) -> int:
    """The listen backlog, which is also how many connections asyncio accepts per loop turn.

    Accepted sockets reach the guard (connection_made) two turns later, and a closed one frees
    its descriptor a turn after that, so up to about four backlogs are open beyond the cap: an
    eighth of it keeps that within the descriptors connection_cap left free.
    """
    return max(8, min(128, cap // 8))


class GuardedH11Protocol(H11Protocol):
    """H11Protocol with a deadline for each request to arrive, head and body (a slow head is
    slowloris, a slow body its sibling), and a connection cap. Limits are class attributes;
    `guarded_protocol()` makes a class with other values."""

    header_timeout_s: float = 10.0
    max_connections: int = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._request_timer: asyncio.TimerHandle | None = None
        self.idle_since = time.monotonic()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_request_timer()
        if len(self.connections) > self.max_connections:  # cheap test first: a flood is hot
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_request_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # The first byte of the next request on a kept-alive connection starts its deadline.
        if self._request_timer is None and self.conn.their_state is h11.IDLE:
            self._arm_request_timer()
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state not in _RECEIVING:
            self._cancel_request_timer()

    def on_response_complete(self) -> None:
        self.idle_since = time.monotonic()
        super().on_response_complete()

    @property
    def request_active(self) -> bool:
        """A request head arrived and its response is not complete yet."""
        return self.cycle is not None and not self.cycle.response_complete

    def _arm_request_timer(self) -> None:
        self._cancel_request_timer()
        self._request_timer = self.loop.call_later(self.header_timeout_s, self._request_timed_out)

    def _cancel_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _request_timed_out(self) -> None:
        # Like nginx's client_header_timeout / client_body_timeout: close without an answer
        # (the app, if it was reading the body, sees a disconnect).
        self._request_timer = None
        if self.conn.their_state in _RECEIVING and not self.transport.is_closing():
            logger.info("closed a connection whose request did not arrive in time")
            self.transport.close()

    def _make_room(self) -> None:
        """Over the cap: close the connection idle longest (no request in progress: a slow
        request head or a kept-alive connection), or, when every other one is busy, this one."""
        # Those already closing leave at the next loop turn: they make no room, take none.
        open_now = [
            c
            for c in self.connections
            if isinstance(c, GuardedH11Protocol) and not c.transport.is_closing()
        ]
        if len(open_now) <= self.max_connections:
            return
        idle = [c for c in open_now if c is not self and not c.request_active]
        victim = min(idle, key=lambda c: c.idle_since) if idle else self
        logger.warning(
            "connection limit %d reached: closed %s connection",
            self.max_connections,
            "an idle" if victim is not self else "the new",
        )
        victim.transport.close()


def guarded_protocol(*, header_timeout_s: float, max_connections: int) -> type[GuardedH11Protocol]:
    """A GuardedH11Protocol class with these limits (uvicorn instantiates it per connection)."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "max_connections": max_connections},
    )
