"""Error and warning lines on a piped stderr are written without rich, byte for byte what rich
wrote there; a terminal, forced colour or a tab still go through rich."""

from __future__ import annotations

import os

import pytest

from tests.support.python_probe import run_python
from versectl.report import output

MESSAGES = [
    "plain",
    "",
    "   ",
    "trailing spaces   ",
    "  leading spaces",
    "nginx.conf:100: [bold]x[/] and [/] and [link=x]y",
    "back\\slash \\[not markup] \\\\[b]",
    "emoji codes stay :100: :smile:",
    "wide 日本語 😀 e\u0301 combining",
    "two\nlines",
    "controls \x1b[2J \r \x9b \u202e \x00 \x7f",
    "long " + "x" * 300,
    "long words " + " ".join(["word"] * 60),
]


def _through_rich(capsys: pytest.CaptureFixture[str], label: str, message: str) -> str:
    style = "bold red" if label == "error:" else "bold yellow"
    output.stderr_console().print(f"[{style}]{label}[/] {output.literal(message)}")
    return capsys.readouterr().err


@pytest.mark.parametrize("message", MESSAGES)
def test_plain_diagnostics_are_what_rich_wrote(
    message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    expected = {label: _through_rich(capsys, label, message) for label in ("error:", "warning:")}
    monkeypatch.setattr(output, "stderr_console", _no_rich)
    output.print_error(message)
    assert capsys.readouterr().err == expected["error:"]
    output.print_warning(message)
    assert capsys.readouterr().err == expected["warning:"]


def _no_rich() -> None:
    raise AssertionError("a piped stderr needs no rich console")


def test_an_error_on_a_pipe_imports_no_rich() -> None:
    probe = (
        "import sys\n"
        "from versectl.report.output import print_error\n"
        "print_error('x')\n"
        "print(any(m.startswith('rich') for m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    done = run_python(probe, env=env)
    assert (done.stdout, done.stderr) == ("False\n", "error: x\n")


def test_forced_colour_and_tabs_still_go_through_rich(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    expected = _through_rich(capsys, "error:", "a\tb")
    output.print_error("a\tb")
    assert capsys.readouterr().err == expected == "error: a        b\n"  # rich's tab stops
    monkeypatch.setenv("FORCE_COLOR", "1")
    output.print_warning("coloured")
    assert "\x1b[" in capsys.readouterr().err
