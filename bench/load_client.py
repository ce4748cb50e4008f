"""The light client of bench/backend_load.py: N concurrent chat streams over raw asyncio
sockets, one timestamp per read, printed as JSON (per stream: TTFT and the token times)."""

from __future__ import annotations

import asyncio
import json
import sys
import time

TOKEN = b"event: token"
DONE = b"event: done"


class _Stream(asyncio.Protocol):
    def __init__(self, request: bytes, finished: asyncio.Future[None]) -> None:
        self.request = request
        self.finished = finished
        self.sent = 0.0
        self.times: list[float] = []
        self.tail = b""
        self.done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self.sent = time.perf_counter()
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        # One timestamp per read; a marker split across two reads is found through the tail.
        text = self.tail + data
        self.times.extend([now] * (text.count(TOKEN) - self.tail.count(TOKEN)))
        self.done = self.done or DONE in text
        self.tail = text[-len(TOKEN) :]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def run(port: int, count: int, cookie: str) -> list[dict[str, object]]:
    loop = asyncio.get_running_loop()
    body = json.dumps({"message": "How do I stream answers through nginx?"}).encode()
    head = (
        f"POST /api/standalone-chat HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nCookie: verse_session={cookie}\r\n\r\n"
    )
    request = head.encode() + body
    streams: list[_Stream] = []
    waits: list[asyncio.Future[None]] = []
    for _ in range(count):
        finished: asyncio.Future[None] = loop.create_future()
        stream = _Stream(request, finished)
        streams.append(stream)
        waits.append(finished)
    await asyncio.gather(
        *(loop.create_connection(lambda s=s: s, "127.0.0.1", port) for s in streams)  # type: ignore[misc]
    )
    await asyncio.gather(*waits)
    return [{"sent": s.sent, "times": s.times, "done": s.done} for s in streams]


def main() -> None:
    port, count, cookie, cpu = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    import os

    os.sched_setaffinity(0, {cpu})
    print(json.dumps(asyncio.run(run(port, count, cookie))))


if __name__ == "__main__":
    main()
