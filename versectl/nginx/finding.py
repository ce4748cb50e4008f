"""A rule's verdict on one place in the config: what is wrong there and the line that fixes it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from versectl.nginx.clients import ALL_CLIENTS, ClientKind


class Severity(StrEnum):
    """How sure the evidence (tests/e2e/test_check_truth.py) is that streaming breaks."""

    error = "error"
    """measured: the stream is held, cut or answered from a cache."""
    warning = "warning"
    """works only because of something outside nginx (the backend's framing or headers)."""
    info = "info"
    """harmless, or folklore that measurably changes nothing."""

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """One finding; `fix` is the nginx text to write at `file:line` (None when no line fixes it)."""

    rule: str
    severity: Severity
    file: str
    line: int
    message: str
    fix: str | None = None
    uri: str | None = None
    """The request URI whose selected location this finding is about (None: config-wide)."""
    location_file: str | None = None
    location_line: int | None = None
    """Where the selected location block is (for grouping and for `versectl fix`)."""
    clients: tuple[ClientKind, ...] = ALL_CLIENTS
    """The kinds of client this finding really affects (default: every kind)."""
