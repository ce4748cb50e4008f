"""RepeatFilter: a flood of one message passes a budget per window, then a count."""

from __future__ import annotations

import logging

from verse_backend.log_limits import RepeatFilter, log_config


def _record(msg: str, name: str = "asyncio") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, None)


def test_repeat_filter_passes_a_burst_then_counts_until_the_next_window() -> None:
    now = [0.0]
    repeats = RepeatFilter(burst=3, window_s=10.0, clock=lambda: now[0])
    passed = [
        repeats.filter(_record("socket.accept() out of system resource")) for _ in range(1000)
    ]
    assert passed.count(True) == 3 and passed[:3] == [True] * 3
    assert repeats.filter(_record("another message"))  # other kinds have their own budget
    now[0] = 10.0
    record = _record("socket.accept() out of system resource")
    assert repeats.filter(record)
    assert record.getMessage().endswith("[997 similar messages suppressed]")


def test_repeat_filter_remembers_a_bounded_number_of_kinds() -> None:
    repeats = RepeatFilter(burst=1, max_kinds=50)
    for index in range(10_000):
        assert repeats.filter(_record(f"message {index}"))
    assert len(repeats._budgets) == 50


def test_log_config_filters_the_error_handler_and_routes_root_through_it() -> None:
    base = {
        "version": 1,
        "handlers": {"default": {"class": "logging.StreamHandler"}, "access": {"class": "x"}},
    }
    config = log_config(base)
    handlers = config["handlers"]
    assert isinstance(handlers, dict)
    assert handlers["default"]["filters"] == ["repeats"]
    assert "filters" not in handlers["access"]  # one line per request is the access log's job
    assert config["root"] == {"handlers": ["default"], "level": "INFO"}
    assert "filters" not in base["handlers"]["default"]  # the base is not modified
