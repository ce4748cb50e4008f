"""Hostile bodies for the probe: decompression bombs and event floods, served by a real socket.

The bodies are built once per test session (compressing 1 GiB takes a second or three).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import brotli

from tests.support.scripted_server import read_request
from tests.support.thread_server import listening_socket, serving_in_thread

GIB = 1 << 30
_ZEROS = bytes(1 << 20)
_TINY_EVENTS = b"data:x\n\n" * (1 << 17)  # 1 MiB of 8-byte events


@cache
def brotli_gib() -> bytes:
    """About 1.6 KB of brotli that expands to 1 GiB of zero bytes."""
    compressor = brotli.Compressor(quality=5)
    body = b"".join(compressor.process(_ZEROS) for _ in range(GIB // len(_ZEROS)))
    return body + compressor.finish()


@cache
def brotli_events() -> bytes:
    """About 2 KB of brotli that decodes to 32 Mi tiny SSE events (256 MiB)."""
    compressor = brotli.Compressor(quality=5)
    body = b"".join(compressor.process(_TINY_EVENTS) for _ in range(256))
    return body + compressor.finish()


@cache
def brotli_comments() -> bytes:
    """A few hundred bytes of brotli that decode to 128 MiB of 1 KiB comment lines (no event)."""
    compressor = brotli.Compressor(quality=5)
    lines = (b":" + b" " * 1022 + b"\n") * 1024
    body = b"".join(compressor.process(lines) for _ in range(128))
    return body + compressor.finish()


@cache
def gzip_gib() -> bytes:
    """About 1 MB of gzip that expands to 1 GiB of zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = b"".join(compressor.compress(_ZEROS) for _ in range(GIB // len(_ZEROS)))
    return body + compressor.flush()


@dataclass(frozen=True)
class Bomb:
    """What to answer: a fixed body with a Content-Encoding, or an endless flood of events."""

    body: bytes = b""
    encoding: str | None = None
    flood: bool = False


BOMBS: dict[str, Callable[[], Bomb]] = {
    "brotli 1 GiB": lambda: Bomb(brotli_gib(), "br"),
    "brotli 32Mi events": lambda: Bomb(brotli_events(), "br"),
    "brotli 128 MiB of comments": lambda: Bomb(brotli_comments(), "br"),
    "gzip 1 GiB": lambda: Bomb(gzip_gib(), "gzip"),
    "plain flood": lambda: Bomb(flood=True),
}
"""Every bomb by name, built on demand (each is up to 100 MB compressed): the tests and
bench/probe_bombs.py serve these."""


@contextmanager
def bomb_server(bomb: Bomb) -> Iterator[str]:
    """Serve `bomb` as text/event-stream, close-delimited, on an ephemeral loopback port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await read_request(reader)
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
            if bomb.encoding:
                head += f"Content-Encoding: {bomb.encoding}\r\n"
            writer.write(head.encode() + b"\r\n")
            if bomb.flood:
                while True:  # until the client goes away
                    writer.write(_TINY_EVENTS)
                    await writer.drain()
            writer.write(bomb.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    sock = listening_socket()
    with serving_in_thread(sock, handle):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/stream"


@dataclass(frozen=True)
class Measured:
    """A finished (or killed) probe process: exit code, stdout, wall time, peak RSS."""

    returncode: int | None
    stdout: bytes
    seconds: float
    rss_mib: float


_MEASURE = """
import json, resource, subprocess, sys
try:
    code = subprocess.run(sys.argv[2:], timeout=float(sys.argv[1]), check=False).returncode
except subprocess.TimeoutExpired:
    code = None
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "rss_kib": peak}), file=sys.stderr)
"""
"""Run by a fresh, small interpreter: a child forked straight from pytest would report pytest's
own RSS as its peak (ru_maxrss counts the memory inherited at fork)."""


def run_measured(args: list[str], *, kill_after: float, source: Path | None = None) -> Measured:
    """`python -m versectl ARGS` in a subprocess; its peak RSS (ru_maxrss) and exit code.

    Killed (returncode None) after `kill_after` seconds. stdout goes to a file, not a pipe that
    nobody reads until the end: a large JSON document would block the child.
    """
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [sys.executable, "-c", _MEASURE, str(kill_after), sys.executable, "-m", "versectl"]
    start = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        done = subprocess.run(
            [*command, *args],
            cwd=source,
            env=env,
            stdout=stdout,
            stderr=subprocess.PIPE,
            timeout=kill_after + 30,
            check=False,
        )
        stdout.seek(0)
        out = stdout.read()
    seconds = time.perf_counter() - start
    report = json.loads(done.stderr.decode().strip().splitlines()[-1])
    return Measured(report["code"], out, seconds, report["rss_kib"] / 1024)
