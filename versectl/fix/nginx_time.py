"""nginx time values ("90", "3600s", "1h 30m") in milliseconds, as ngx_parse_time reads them."""

from __future__ import annotations

import re

_UNITS_MS = {
    "ms": 1,
    "": 1000,
    "s": 1000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
    "M": 2_592_000_000,
    "y": 31_536_000_000,
}
_PART = re.compile(r"\s*(\d+)(ms|s|m|h|d|w|M|y)?\s*")


def parse_time_ms(value: str) -> int | None:
    """Milliseconds, or None when nginx would reject the value."""
    total, position = 0, 0
    if not value.strip():
        return None
    while position < len(value):
        match = _PART.match(value, position)
        if match is None or match.end() == position:
            return None
        total += int(match.group(1)) * _UNITS_MS[match.group(2) or ""]
        position = match.end()
    return total
