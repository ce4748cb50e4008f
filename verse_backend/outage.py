"""Telling the log about a database outage once when it starts (and once when it ends), not at
every retry of the timers that keep trying through it."""

from __future__ import annotations

import logging

from verse_backend.store import StoreUnavailable


class OutageNotice:
    def __init__(self, logger: logging.Logger, started: str, ended: str | None = None) -> None:
        """`started` is a %-format for the StoreUnavailable; `ended`, if any, is logged once
        the next call after the outage worked."""
        self._logger = logger
        self._started = started
        self._ended = ended
        self.ongoing = False

    def failed(self, error: StoreUnavailable) -> None:
        if not self.ongoing:
            self.ongoing = True
            self._logger.warning(self._started, error)

    def succeeded(self) -> None:
        if self.ongoing:
            self.ongoing = False
            if self._ended is not None:
                self._logger.info(self._ended)
