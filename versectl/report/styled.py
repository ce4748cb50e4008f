"""Text with styles, collected without importing rich as text pieces and style runs, joined
once: piped output is written plain, and only a terminal pays for rich (about 35 ms of every
start); for 150,000 servers rich's `Text.append` per piece was a third of the check's time."""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# the codes rich's Text drops (rich.control.strip_control_codes: BEL, BS, VT, FF, CR), here so
# that the spans match Text's own string without importing rich (tests/report pins the two)
_CONTROL_STRIP = dict.fromkeys((7, 8, 11, 12, 13))


class Styled:
    """`append(text, style)` as rich.text.Text has it, but only a list append per call; `plain`
    (piped output) never builds a Text, `to_rich()` (a terminal) builds one with its spans."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[tuple[int, int, str]] = []
        self._size = 0

    def append(self, text: str, style: str | None = None) -> None:
        text = text.translate(_CONTROL_STRIP)
        end = self._size + len(text)
        if style:
            self._spans.append((self._size, end, style))
        self._parts.append(text)
        self._size = end

    @property
    def plain(self) -> str:
        return "".join(self._parts)

    def to_rich(self) -> Text:
        from rich.text import Span, Text

        return Text(self.plain, spans=[Span(*span) for span in self._spans])


def surely_plain(stream: IO[str] | None = None) -> bool:
    """`stream` (stdout by default) is no terminal and nothing asks for colour: rich would only
    strip the styles (its own test, Console.color_system, needs rich imported)."""
    forced = os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE")
    return not forced and not (sys.stdout if stream is None else stream).isatty()
