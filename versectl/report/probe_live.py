"""The live view of probe-stream, drawn by a child process so it never delays a read's timestamp.

A render thread in the probe's own process shares its GIL: when the OS pauses that thread while
it holds the GIL (2 busy cores suffice), the reading thread waits, and the timestamp of the read
it is about to take is late by milliseconds. Here the probe only copies a few counters and new
arrival times into shared memory every 100 ms (microseconds of work on its event loop); a
forked child reads them and draws with rich on stderr, on its own GIL.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from ctypes import c_double, c_longlong
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from versectl.probe.record import StreamRecord
from versectl.report.probe import timeline

PUBLISH_INTERVAL_S = 0.1
MAX_POINTS = 8192
"""Arrival times of the current stream kept for its live timeline (later ones are not drawn)."""
_STOP, _TOTAL, _STARTED, _DONE, _EVENTS, _READS, _POINTS, _NOW_US = range(8)
_SLOTS = 8


class LiveView:
    """`with LiveView(total) as view:` start the drawing child; `observe` each stream record;
    run `view.publish_forever()` as a task on the probe's event loop."""

    def __init__(self, total_streams: int) -> None:
        context = multiprocessing.get_context("fork")  # fast, and nothing to pickle
        self._counters: Any = context.RawArray(c_longlong, _SLOTS)
        self._points: Any = context.RawArray(c_double, MAX_POINTS)
        self._counters[_TOTAL] = total_streams
        self._process = context.Process(
            target=_draw, args=(self._counters, self._points), daemon=True
        )
        self._records: list[StreamRecord] = []
        self._current: StreamRecord | None = None
        self._copied = 0

    def observe(self, record: StreamRecord) -> None:
        self._records.append(record)

    def __enter__(self) -> LiveView:
        self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._counters[_STOP] = 1
        self._process.join(timeout=2)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2)

    async def publish_forever(self) -> None:
        while True:
            self.publish()
            await asyncio.sleep(PUBLISH_INTERVAL_S)

    def publish(self) -> None:
        """Copy counters and the newest stream's new arrivals into shared memory."""
        records = self._records
        counters = self._counters
        counters[_STARTED] = len(records)
        counters[_DONE] = sum(1 for r in records if r.ended_ns is not None)
        counters[_EVENTS] = sum(r.events for r in records)
        counters[_READS] = sum(r.reads for r in records)
        current = next((r for r in reversed(records) if r.sent_ns is not None), None)
        if current is None or current.sent_ns is None:
            return
        if current is not self._current:
            self._current, self._copied = current, 0
            counters[_POINTS] = 0
        arrivals = current.arrivals
        end = min(len(arrivals), MAX_POINTS)
        for index in range(self._copied, end):
            self._points[index] = (arrivals[index].t_ns - current.sent_ns) / 1e6
        self._copied = end
        counters[_POINTS] = end
        counters[_NOW_US] = (time.perf_counter_ns() - current.sent_ns) // 1000


def _draw(counters: SynchronizedArray[int], points: SynchronizedArray[float]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the probe's to handle, not ours
    console = Console(stderr=True, highlight=False)
    started = time.perf_counter()

    def render() -> RenderableType:
        elapsed = time.perf_counter() - started
        events = counters[_EVENTS]
        line = Text.assemble(
            ("probing ", "dim"),
            (f"{counters[_DONE]}/{counters[_TOTAL]} streams done  ", ""),
            (f"{events} events  ", "bold"),
            (f"{events / elapsed if elapsed else 0:.1f} events/s  ", "green"),
            (f"{counters[_READS]} reads  {elapsed:.1f} s", "dim"),
        )
        count = counters[_POINTS]
        if not count:
            return line
        now_ms = max(counters[_NOW_US] / 1000, points[count - 1], 1.0)
        width = max(20, min(60, console.width - 2))
        return Group(line, Text(timeline(points[:count], now_ms, width), style="cyan"))

    with Live(console=console, refresh_per_second=8, transient=True, get_renderable=render):
        while not counters[_STOP]:
            time.sleep(0.05)
