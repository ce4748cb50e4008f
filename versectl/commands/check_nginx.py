"""`versectl check nginx`: not built yet (see the issue tracker)."""

from __future__ import annotations

from versectl.errors import InputError


def command() -> None:
    """Not available yet."""
    raise InputError("this command is not available yet in this build")
