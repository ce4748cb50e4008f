"""Text with styles, collected without importing rich: piped output is written plain, and only
a terminal pays for rich (about 35 ms of every start)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text


class Styled:
    """`append(text, style)` as rich.text.Text has it; `plain` or `to_rich()` at the end."""

    def __init__(self) -> None:
        self._parts: list[tuple[str, str | None]] = []

    def append(self, text: str, style: str | None = None) -> None:
        self._parts.append((text, style))

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self._parts)

    def to_rich(self) -> Text:
        from rich.text import Text

        out = Text()
        for text, style in self._parts:
            out.append(text, style=style)
        return out


def surely_plain() -> bool:
    """stdout is no terminal and nothing asks for colour: rich would only strip the styles
    (its own test, Console.color_system, needs rich imported)."""
    forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE")
    return not forced and not sys.stdout.isatty()
