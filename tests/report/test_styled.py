"""Styled builds the same text and styles as rich's Text.append would, control codes too."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from versectl.report.styled import Styled

_PIECES = st.lists(
    st.tuples(st.text(max_size=12), st.sampled_from([None, "bold", "dim", "bold red"])),
    max_size=20,
)


@given(_PIECES)
def test_styled_matches_rich_text_append(pieces: list[tuple[str, str | None]]) -> None:
    ours, theirs = Styled(), Text()
    for text, style in pieces:
        ours.append(text, style=style)
        theirs.append(text, style=style)
    built = ours.to_rich()
    assert ours.plain == built.plain == theirs.plain
    styled = [(theirs.plain[s.start : s.end], s.style) for s in theirs.spans if s.end > s.start]
    assert [(built.plain[s.start : s.end], s.style) for s in built.spans if s.end > s.start] == (
        styled
    )


def test_styled_drops_bel_as_rich_does() -> None:
    out = Styled()
    out.append("evil\x1b]0;pwned\x07", style="bold")
    out.append(" tail")
    assert out.plain == "evil\x1b]0;pwned tail"
    (span,) = out.to_rich().spans
    assert out.plain[span.start : span.end] == "evil\x1b]0;pwned"


def test_styled_strips_the_codes_rich_strips() -> None:
    from rich.control import strip_control_codes

    every = "".join(map(chr, range(160)))
    out = Styled()
    out.append(every)
    assert out.plain == strip_control_codes(every)
