"""How long the machine kept given processes waiting for a CPU (Linux schedstat, run-queue time).

Timing tests use it to tell "the stream was held" (the client sat idle, no run-queue time) from
"a loaded machine was late" (our threads were runnable but not running): it excuses only the
latter, and only as much as the time actually lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def runqueue_wait_ns(pids: Iterable[int] = ()) -> int:
    """Total run-queue wait of every thread of this process and of `pids`, since they started.

    0 where the kernel has no schedstat (the caller then excuses nothing: the strict figure)."""
    total = 0
    for pid in {os.getpid(), *pids}:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a thread that ended between the listing and the read
    return total


def excused_merges(wait_ns: int, gap_s: float, ceiling: int) -> int:
    """Reads a loaded machine may have merged: two events share a read only when the client did
    not get to read for a whole gap, so each merge costs at least one gap of lost CPU time.
    Never more than `ceiling`, so a held stream (a few reads) still fails."""
    return min(ceiling, 1 + wait_ns // int(gap_s * 1e9))


def excused_ms(base_ms: float, wait_ns: int, events: int, gap_s: float) -> float:
    """A per-event timing margin: `base_ms`, plus the CPU time the machine took from us per event
    (the typical extra delay of each event on a loaded machine), but below 0.8 of a gap: an
    event stamped at the wrong read, or held, is off by a whole gap or more."""
    return min(0.8 * gap_s * 1e3, base_ms + wait_ns / 1e6 / max(events, 1))
