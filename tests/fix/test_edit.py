"""Applying edits: exact ranges, everything else untouched, conflicts refused."""

from __future__ import annotations

import pytest

from versectl.fix.edit import Edit, EditConflictError, apply_edits

TEXT = "0123456789"


def test_edit_replaces_only_its_range() -> None:
    assert apply_edits(TEXT, [Edit("f", 2, 5, "abc-def")]) == "01abc-def56789"


def test_edit_applies_several_from_original_offsets() -> None:
    edits = [Edit("f", 8, 9, "X"), Edit("f", 0, 1, "AA"), Edit("f", 4, 4, "+")]
    assert apply_edits(TEXT, edits) == "AA123+4567X9"


def test_edit_touching_ranges_are_fine() -> None:
    assert apply_edits(TEXT, [Edit("f", 0, 3, "a"), Edit("f", 3, 6, "b")]) == "ab6789"


def test_edit_no_edits_returns_text() -> None:
    assert apply_edits(TEXT, []) is TEXT


@pytest.mark.parametrize(
    "edits",
    [
        [Edit("f", 2, 6, "x"), Edit("f", 5, 7, "y")],
        [Edit("f", 3, 3, "x"), Edit("f", 3, 3, "y")],
        [Edit("f", 5, 11, "x")],
        [Edit("f", 6, 5, "x")],
        [Edit("f", 0, 1, "x"), Edit("g", 4, 5, "y")],
    ],
    ids=["overlap", "same-insertion-point", "past-end", "reversed", "two-files"],
)
def test_edit_conflicts_are_refused(edits: list[Edit]) -> None:
    with pytest.raises(EditConflictError):
        apply_edits(TEXT, edits)
