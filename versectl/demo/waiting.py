"""Wait for a condition with a deadline: for state that has no event to wait on (another process)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it is true; fail with `what` after `timeout` seconds.

    Used only for state owned by another process (a pid file, a process exit), where no
    in-process event exists.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
