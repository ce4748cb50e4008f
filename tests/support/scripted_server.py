"""A purpose-built HTTP server that sends a scripted body at known times, over a real socket.

It speaks just enough HTTP/1.x to stand in for backends nginx or the probe meet in the wild:
- framing "auto": like a standards-conforming server, chunked for an HTTP/1.1 request and
  close-delimited (no length, no chunks) for an HTTP/1.0 request (nginx's default upstream
  protocol); "chunked", "close" and "length" force one framing. uvicorn chunks always.
- hostile behaviours: hang after the headers, close mid-body, endless lines, bad UTF-8.
Each step records the moment it was written (time.perf_counter_ns, CLOCK_MONOTONIC: the same
clock in every process on the machine), so a client's measurements can be compared with truth.
Written by hand because no library serves raw, deliberately misbehaving HTTP with exact pacing.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from tests.support.thread_server import Handler, listening_socket, serving_in_thread

Framing = Literal["auto", "chunked", "close", "length"]

SSE_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream"),
    ("Cache-Control", "no-cache"),
)
UVICORN_LIKE_HEADERS: tuple[tuple[str, str], ...] = (*SSE_HEADERS, ("X-Accel-Buffering", "no"))


@dataclass(frozen=True)
class Step:
    """After `delay` seconds (from the previous step), write `data`."""

    delay: float
    data: bytes


@dataclass
class Plan:
    """What the server answers to every request."""

    steps: list[Step]
    status: int = 200
    headers: tuple[tuple[str, str], ...] = SSE_HEADERS
    framing: Framing = "auto"
    hang_after: bool = False
    """After the steps, keep the connection open and silent until the client closes it."""
    close_mid_body: bool = False
    """After the steps, drop the connection without finishing the body."""
    delay_headers: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    version: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedServer:
    """Handle to a running scripted server."""

    port: int
    requests: list[RecordedRequest] = field(default_factory=list)
    sent_ns: list[list[int]] = field(default_factory=list)
    """Per connection, the perf_counter_ns at which each step finished writing."""
    closed: threading.Event = field(default_factory=threading.Event)
    """Set when a client closes a connection the server was still writing or holding."""
    exchanges: list[tuple[RecordedRequest, list[int]]] = field(default_factory=list)
    """Per connection, the request and its `sent_ns` list together (for concurrent clients)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def sse_tokens(
    count: int, gap: float, *, first_delay: float = 0.0, done: bool = True
) -> list[Step]:
    """`count` `event: token` events `gap` seconds apart, then `event: done`."""
    steps = [
        Step(
            first_delay if i == 0 else gap,
            b"event: token\ndata: " + json.dumps({"text": f"tok{i} "}).encode() + b"\n\n",
        )
        for i in range(count)
    ]
    if done:
        steps.append(Step(0.0, b'event: done\ndata: {"tokens": %d}\n\n' % count))
    return steps


def _encode_head(plan: Plan, request_version: str) -> tuple[bytes, str]:
    framing = plan.framing
    if framing == "auto":
        framing = "chunked" if request_version == "HTTP/1.1" else "close"
    lines = [f"{request_version if framing == 'close' else 'HTTP/1.1'} {plan.status} X"]
    lines += [f"{name}: {value}" for name, value in plan.headers]
    if framing == "chunked":
        lines.append("Transfer-Encoding: chunked")
    elif framing == "length":
        lines.append(f"Content-Length: {sum(len(s.data) for s in plan.steps)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), framing


async def read_request(reader: asyncio.StreamReader) -> RecordedRequest:
    """One HTTP/1.x request head and its Content-Length body (test servers only)."""
    head = await reader.readuntil(b"\r\n\r\n")
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, path, version = request_line.split(" ", 2)
    headers: dict[str, str] = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    return RecordedRequest(method, path, version, headers, body)


def _make_handler(server: ScriptedServer, plan_for: Callable[[RecordedRequest], Plan]) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sent: list[int] = []
        try:
            request = await read_request(reader)
            server.requests.append(request)
            plan = plan_for(request)
            if plan.delay_headers:
                await asyncio.sleep(plan.delay_headers)
            head, framing = _encode_head(plan, request.version)
            writer.write(head)
            await writer.drain()
            server.sent_ns.append(sent)
            server.exchanges.append((request, sent))
            for step in plan.steps:
                if step.delay:
                    await asyncio.sleep(step.delay)
                if framing == "chunked":
                    writer.write(b"%x\r\n%s\r\n" % (len(step.data), step.data))
                else:
                    writer.write(step.data)
                await writer.drain()
                sent.append(time.perf_counter_ns())
            if plan.close_mid_body:
                writer.transport.abort()
                return
            if plan.hang_after:
                await reader.read()  # returns b"" when the client closes
                server.closed.set()
                return
            if framing == "chunked":
                writer.write(b"0\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            server.closed.set()
        except asyncio.CancelledError:
            # the server is stopping while a step still waits (a silent backend whose client
            # went away): end quietly instead of asyncio logging a traceback per connection
            server.closed.set()
        finally:
            writer.close()

    return handle


@contextmanager
def scripted_server(plan: Plan | Callable[[RecordedRequest], Plan]) -> Iterator[ScriptedServer]:
    """Serve `plan` (or a function of the request) on an ephemeral loopback port, in a thread."""
    plan_for = plan if callable(plan) else (lambda _request: plan)
    sock = listening_socket()
    server = ScriptedServer(port=int(sock.getsockname()[1]))
    with serving_in_thread(sock, _make_handler(server, plan_for)):
        yield server
