"""nginx time and size values ("90", "90s", "1m", "1h30m", "500ms"; "4k", "1m") as numbers."""

from __future__ import annotations

import re

_TIME_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
    "M": 2592000.0,
    "y": 31536000.0,
}
_TIME_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|M|y)?")
_SIZE = re.compile(r"(\d+)([kKmMgG]?)")


def parse_time(value: str) -> float | None:
    """Seconds (ngx_parse_time: a bare number is seconds), or None when nginx would reject it."""
    text = value.strip()
    if not text:
        return None
    total = 0.0
    pos = 0
    bare_seen = False
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        part = _TIME_PART.match(text, pos)
        if part is None or bare_seen:
            return None
        unit = part.group(2)
        if unit is None:
            bare_seen = True  # only the last part may lack a unit
        total += int(part.group(1)) * _TIME_UNITS[unit or "s"]
        pos = part.end()
    return total


def parse_size(value: str) -> int | None:
    """Bytes (ngx_parse_size: k/m/g suffixes), or None when not a size."""
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        return None
    scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(match.group(1)) * scale


def format_seconds(seconds: float) -> str:
    """`90s`, `1.5s`, `1h`: for messages."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"
