"""A report built as text pieces and style runs, joined once at the end: for a config with
150,000 servers rich's `Text.append` per piece was a third of the whole check's time."""

from __future__ import annotations

from rich.control import strip_control_codes
from rich.text import Span, Text


class Styled:
    """`append(text, style)` like rich's Text, but only a list append per call; `plain` (piped
    output) never builds a Text, `text()` (a terminal) builds one with its spans at once."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._spans: list[Span] = []
        self._size = 0

    def append(self, text: str, style: str | None = None) -> None:
        # as Text.append does (BEL, BS, CR... dropped), so the spans match Text's own string
        text = strip_control_codes(text)
        end = self._size + len(text)
        if style:
            self._spans.append(Span(self._size, end, style))
        self._parts.append(text)
        self._size = end

    @property
    def plain(self) -> str:
        return "".join(self._parts)

    def text(self) -> Text:
        return Text(self.plain, spans=self._spans)
