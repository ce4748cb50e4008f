"""nginx time and size syntax."""

from __future__ import annotations

import pytest

from versectl.nginx.model import parse_size, parse_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("90s", 90.0),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1h 30m", 5400.0),
        ("2d", 172800.0),
        ("1m30", 90.0),
    ],
)
def test_parse_time(text: str, seconds: float) -> None:
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "5 5", "-1s"])
def test_parse_time_rejects(text: str) -> None:
    assert parse_time(text) is None


def test_parse_size() -> None:
    assert parse_size("4k") == 4096
    assert parse_size("1M") == 1024 * 1024
    assert parse_size("12") == 12
    assert parse_size("4kb") is None
