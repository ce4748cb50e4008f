"""The output sinks: one JSON document, with what a terminal could act on escaped."""

from __future__ import annotations

import json

import pytest

from versectl.report import output


def test_output_json_escapes_c1_and_bidi_but_stays_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.emit_json({"server": "evil\x9b2J \u202eabc \x1b[2J", "plain": "héllo 💯"})
    text = capsys.readouterr().out
    assert "\x9b" not in text and "\u202e" not in text and "\x1b" not in text
    assert json.loads(text) == {"server": "evil\x9b2J \u202eabc \x1b[2J", "plain": "héllo 💯"}


def test_output_literal_keeps_markup_and_emoji_codes_as_text() -> None:
    console = output.stdout_console()
    with console.capture() as captured:
        console.print(f"at {output.literal('nginx.conf:100: [bold]x[/]')}")
    assert captured.get() == "at nginx.conf:100: [bold]x[/]\n"
