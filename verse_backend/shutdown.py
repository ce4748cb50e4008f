"""Graceful shutdown for open streams: a deadline that ends each answer cleanly (stored, then an
`event: error`) before the server's graceful timeout cuts the connection, and a count of open
streams so the lifespan can wait for their last write before it closes the store."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import anyio


class ServerShuttingDown(Exception):
    """The shutdown deadline passed while a stream waited for its provider."""


class Shutdown:
    """Shared by the app's streams; `begin()` is called by the server once it stops accepting.

    Touched only from the event loop thread.
    """

    def __init__(self) -> None:
        self._deadline = math.inf
        self._scopes: set[anyio.CancelScope] = set()
        self._open_streams = 0
        self._idle: anyio.Event | None = None

    @property
    def begun(self) -> bool:
        return self._deadline != math.inf

    def begin(self, grace_s: float) -> None:
        """Give every stream, open or yet to start, `grace_s` more seconds to finish."""
        self._deadline = min(self._deadline, anyio.current_time() + max(0.0, grace_s))
        for scope in self._scopes:
            scope.deadline = min(scope.deadline, self._deadline)

    @contextmanager
    def bounded(self) -> Iterator[None]:
        """Run a wait for the provider; raise ServerShuttingDown if the deadline ends it.

        Wraps single awaits, never a `yield` to the client: a cancel scope must not span one.
        """
        try:
            with anyio.CancelScope(deadline=self._deadline) as scope:
                self._scopes.add(scope)
                try:
                    yield
                finally:
                    self._scopes.discard(scope)
        except Exception as exc:  # the provider failed while being cancelled: same cause
            if scope.cancel_called:
                raise ServerShuttingDown from exc
            raise
        if scope.cancelled_caught:
            raise ServerShuttingDown

    @contextmanager
    def stream(self) -> Iterator[None]:
        """Count an open stream for `wait_idle`."""
        self._open_streams += 1
        try:
            yield
        finally:
            self._open_streams -= 1
            if self._open_streams == 0 and self._idle is not None:
                self._idle.set()

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no stream is open (at most `timeout_s`); True if none is."""
        if self._open_streams == 0:
            return True
        self._idle = anyio.Event()
        with anyio.move_on_after(timeout_s):
            await self._idle.wait()
        return self._open_streams == 0
