"""The chat stream's HTTP response: SSE bytes straight from the endpoint's generator, and a
`: ping` comment after PING_INTERVAL_S of silence, from a timer.

Replaces FastAPI's `response_class=EventSourceResponse` path, which moves every event through
two extra tasks, two memory streams, a timeout scope and a `sleep(0)`: a quarter of the
server's CPU per token under load (py-spy). The ping costs nothing while tokens flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

logger = logging.getLogger(__name__)

PING_INTERVAL_S = 15.0
"""Silence after which a comment goes out, so proxies and browsers keep the stream open."""
PING = b": ping\n\n"
# What FastAPI's SSE responses send too: no cache may keep the stream, and nginx passes it on
# read by read even where the site forgot `proxy_buffering off`.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_frame(name: str, data_json: bytes) -> bytes:
    """One event: `event:`, one `data:` line of JSON (JSON has no raw newline), a blank line."""
    return b"event: " + name.encode() + b"\ndata: " + data_json + b"\n\n"


def sse_event(name: str, data: BaseModel) -> bytes:
    return sse_frame(name, data.model_dump_json().encode())


class _Pings:
    """`: ping` after PING_INTERVAL_S of silence, from a timer that re-arms itself.

    A class, not closures in stream_response: a closure that re-arms itself holds itself
    through its own cell, a reference cycle that kept each finished stream's objects (51 of
    them: the ASGI send chain, FastAPI's exit stacks) for the full collector to find. Here the
    timer is the only link back, and `stop()` cancels it, which drops its callback.
    """

    def __init__(self, send: Send, interval: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._send = send
        self._interval = interval
        self.sending = asyncio.Lock()  # a ping never goes out in the middle of an event's send
        self.last_sent = self._loop.time()
        self._task: asyncio.Task[None] | None = None
        self._timer = self._loop.call_at(self.last_sent + interval, self._on_timer)

    def _on_timer(self) -> None:
        if self._loop.time() - self.last_sent >= self._interval and not self.sending.locked():
            self.last_sent = self._loop.time()
            self._task = self._loop.create_task(self._ping())
        self._timer = self._loop.call_at(self.last_sent + self._interval, self._on_timer)

    def sent(self) -> None:
        """An event went out: the silence starts again."""
        self.last_sent = self._loop.time()

    async def _ping(self) -> None:
        # A failed ping means the client is gone; the next event's send finds out too.
        with contextlib.suppress(Exception):
            async with self.sending:
                await self._send({"type": "http.response.body", "body": PING, "more_body": True})

    def stop(self) -> None:
        self._timer.cancel()
        if self._task is not None:
            self._task.cancel()


class SseResponse(StreamingResponse):
    """A StreamingResponse of SSE bytes whose body iterator is closed however it ends."""

    media_type = "text/event-stream"

    def __init__(self, events: AsyncIterator[bytes], headers: dict[str, str] | None = None) -> None:
        super().__init__(events, headers={**SSE_HEADERS, **(headers or {})})
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream in this task while one small task waits for the client to leave, then
        cancels it (the stream's `finally` marks the answer interrupted).

        Starlette's StreamingResponse does the same with an anyio task group of two tasks;
        on every disconnect, anyio's task-done callback keeps the CancelledError in a
        reference cycle with its own frame, and with it the whole stream (165 objects, left for
        a full collection that scans every open stream). One task less per request, too.
        """
        stream_task = asyncio.current_task()
        assert stream_task is not None  # an ASGI app always runs in a task

        async def watch_for_disconnect() -> None:
            try:
                while (await receive())["type"] != "http.disconnect":
                    pass
            except Exception:  # a broken connection: nobody is left to stream to
                logger.warning("receive failed while streaming; ending the stream", exc_info=True)
            # Reached only while streaming: the stream's end cancels this task first.
            stream_task.cancel()

        watcher = asyncio.get_running_loop().create_task(watch_for_disconnect())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            # Ours when the watcher is done (cancelling is its last act), unless someone else
            # also cancelled: then theirs goes on.
            client_left = watcher.done() and not watcher.cancelled()
            if not (client_left and stream_task.uncancel() == 0):
                raise
        except OSError:  # ASGI 2.4 servers report a gone client this way
            raise ClientDisconnect from None
        finally:
            watcher.cancel()

    async def stream_response(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        pings = _Pings(send, PING_INTERVAL_S)
        try:
            async for chunk in self._events:
                async with pings.sending:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                pings.sent()
            async with pings.sending:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            pings.stop()
            aclose = getattr(self._events, "aclose", None)
            if aclose is not None:
                await aclose()
