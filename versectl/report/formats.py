"""The `--format` values, in a module of their own: command signatures need them and must not
import rich (versectl.report.output) just to build `--help`."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    """`--format` values."""

    table = "table"
    json = "json"
