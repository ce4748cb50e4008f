"""A fix is data: an Edit replaces the range [start, end) of one file's text; one function applies them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] of `file` with `replacement` (start == end: an insertion)."""

    file: str
    start: int
    end: int
    replacement: str


class EditConflictError(ValueError):
    """Edits that overlap, leave the text, or target different files: a bug, never applied."""


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with every edit applied; every character outside the edited ranges is kept.

    Ranges refer to the original text, so edits are applied in one pass from the start. Two
    edits may touch (one ends where the next starts) but not overlap; two insertions at the
    same offset are refused because their order would be a guess.
    """
    if not edits:
        return text
    files = {edit.file for edit in edits}
    if len(files) != 1:
        raise EditConflictError(f"edits for several files: {sorted(files)}")
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    pieces: list[str] = []
    position = 0
    previous: Edit | None = None
    for edit in ordered:
        if not 0 <= edit.start <= edit.end <= len(text):
            raise EditConflictError(f"edit [{edit.start}, {edit.end}) outside 0..{len(text)}")
        if previous is not None and (
            edit.start < previous.end or (edit.start == previous.start == edit.end)
        ):
            raise EditConflictError(
                f"edits [{previous.start}, {previous.end}) and [{edit.start}, {edit.end}) overlap"
            )
        pieces.append(text[position : edit.start])
        pieces.append(edit.replacement)
        position = edit.end
        previous = edit
    pieces.append(text[position:])
    return "".join(pieces)
