"""An asyncio stream server on a pre-bound socket, run in a thread of its own, for test servers."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
STOP_TIMEOUT_S = 10.0


def listening_socket() -> socket.socket:
    """A loopback socket on an ephemeral port, already listening: clients queue from now on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serving_in_thread(sock: socket.socket, handler: Handler) -> Iterator[None]:
    """Serve `handler` on `sock` until the block ends; then cancel the connections still open
    (hanging ones included) and close the loop, so no task outlives the test."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def serve() -> None:
        server = await asyncio.start_server(handler, sock=sock)
        started.set()
        async with server:
            await stop.wait()
        current = asyncio.current_task()
        handlers = [task for task in asyncio.all_tasks() if task is not current]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(STOP_TIMEOUT_S)
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(STOP_TIMEOUT_S)
