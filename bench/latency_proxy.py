"""A network hop for benches: a TCP listener on loopback forwarding to a unix socket, each
chunk leaving a fixed time after it arrived in either direction (latency, not bandwidth:
chunks in flight overlap, as on a real link). asyncio's timers make the delay at least about
a millisecond; benches measure the round trip they got instead of trusting the argument."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator


async def _forward(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((time.monotonic(), data))
            if not data:
                return

    reading = asyncio.ensure_future(read())
    try:
        while True:
            arrived, data = await queue.get()
            await asyncio.sleep(max(0.0, arrived + delay - time.monotonic()))
            if not data:
                return
            writer.write(data)
            await writer.drain()
    except OSError:
        return
    finally:
        reading.cancel()
        writer.close()


@contextlib.contextmanager
def latency_proxy(unix_socket: str, one_way_s: float) -> Iterator[int]:
    """Yield the loopback port of a hop to `unix_socket` (served by a thread)."""
    loop = asyncio.new_event_loop()
    started: list[int] = []
    ready = threading.Event()
    stop = asyncio.Event()

    hops: set[asyncio.Future[tuple[None, None]]] = set()

    async def connection(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_unix_connection(unix_socket)
        hop = asyncio.gather(
            _forward(client_r, server_w, one_way_s), _forward(server_r, client_w, one_way_s)
        )
        hops.add(hop)
        with contextlib.suppress(asyncio.CancelledError):
            await hop
        hops.discard(hop)

    async def serve() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", 0)
        started.append(server.sockets[0].getsockname()[1])
        ready.set()
        async with server:
            await stop.wait()
            for hop in hops:
                hop.cancel()
            await asyncio.gather(*hops, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
