"""A logging filter that collapses repeats: a flood of one message (EMFILE on accept, invalid
requests) fills the disk and hides everything else, so each kind of message gets a budget."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

BURST = 10
"""Records of one kind passed per window before the rest are counted instead."""
WINDOW_S = 60.0
MAX_KINDS = 512
"""Kinds remembered (least recently seen forgotten first): bounded memory under any input."""


@dataclass
class _Budget:
    window_start: float
    passed: int = 0
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """Pass BURST records of a kind (logger, level, message template, exception type) per
    WINDOW_S; count the others and say how many on the next record of that kind that passes."""

    def __init__(
        self,
        burst: int = BURST,
        window_s: float = WINDOW_S,
        max_kinds: int = MAX_KINDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._clock = clock
        self.burst = burst
        self.window_s = window_s
        self.max_kinds = max_kinds
        self._budgets: OrderedDict[tuple[object, ...], _Budget] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        kind = (record.name, record.levelno, str(record.msg), exc_type)
        now = self._clock()
        budget = self._budgets.get(kind)
        if budget is None:
            budget = self._budgets[kind] = _Budget(now)
            if len(self._budgets) > self.max_kinds:
                self._budgets.popitem(last=False)
        else:
            self._budgets.move_to_end(kind)
        if now - budget.window_start >= self.window_s:
            budget.window_start, budget.passed = now, 0
        if budget.passed >= self.burst:
            budget.suppressed += 1
            return False
        budget.passed += 1
        if budget.suppressed:
            record.msg = f"{record.msg} [{budget.suppressed} similar messages suppressed]"
            budget.suppressed = 0
        return True


def log_config(base: dict[str, object]) -> dict[str, object]:
    """uvicorn's logging config with RepeatFilter on its error handler, which also becomes the
    root handler: asyncio's and the app's records go through the same budget."""
    config: dict[str, object] = dict(base)
    config["filters"] = {"repeats": {"()": RepeatFilter}}
    handlers = dict(config.get("handlers", {}))  # type: ignore[call-overload]
    default = dict(handlers["default"])
    default["filters"] = ["repeats"]
    handlers["default"] = default
    config["handlers"] = handlers
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
