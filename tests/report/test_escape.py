"""Nothing from a server, a config or the command line reaches the terminal as a control code."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.probe.servers import raw_server
from versectl.report.escape import TerminalGuard, printable

OSC_TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def _versectl(*args: str, color: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    if color:
        env.update({"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"})
    return subprocess.run(
        [sys.executable, "-m", "versectl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _only_sgr(text: str) -> bool:
    """Every ESC left in `text` starts one of rich's colour codes."""
    return "\x1b" not in SGR.sub("", text) and "\x07" not in text and "\x9b" not in text


def _nothing_hostile(text: str) -> bool:
    """None of the server's sequences came through raw (the live view draws with its own)."""
    return not any(raw in text for raw in (OSC_TITLE, "\x1b]0;", CLEAR, "\x1b[2J", "\x9b", "\x07"))


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (OSC_TITLE, "\\x1b]0;pwned\\x07"),
        ("a\rb", "a\\rb"),
        ("csi\x9b2J", "csi\\x9b2J"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("del\x7f", "del\\x7f"),
        ("plain text, ünïcode, 💯", "plain text, ünïcode, 💯"),
    ],
)
def test_escape_printable_shows_every_control_character(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_escape_printable_one_line_escapes_newlines_and_tabs() -> None:
    assert printable("a\nb\tc") == "a\nb\tc"
    assert printable("a\nb\tc", one_line=True) == "a\\nb\\tc"


def test_escape_guard_keeps_colour_codes_and_escapes_the_rest() -> None:
    sink = io.StringIO()
    TerminalGuard(sink).write("\x1b[1mbold\x1b[0m " + OSC_TITLE + CLEAR)
    assert sink.getvalue() == "\x1b[1mbold\x1b[0m \\x1b]0;pwned\\x07\\x1b[2J\\x1b[H"


def _hostile_answer(status_line: bytes) -> bytes:
    body = f"denied {OSC_TITLE}{CLEAR} bye".encode()
    return (
        status_line
        + b"\r\nContent-Type: text/plain\r\nServer: evil\x9b2J\r\n"
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


@pytest.mark.parametrize("color", [False, True], ids=["plain", "color"])
def test_escape_probe_error_body_and_headers_are_escaped(color: bool) -> None:
    with raw_server(_hostile_answer(b"HTTP/1.1 403 Forbidden")) as port:
        done = _versectl("probe-stream", f"http://127.0.0.1:{port}/api/x", color=color)
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert _nothing_hostile(output), repr(output)
    assert _only_sgr(done.stdout), repr(done.stdout)
    assert "\\x1b]0;pwned\\x07" in output  # shown, escaped, not dropped
    assert "\\x9b2J" in output  # the C1 control in the Server header


def test_escape_probe_reason_phrase_with_escape_sequences() -> None:
    status_line = f"HTTP/1.1 500 Oops {OSC_TITLE}".encode()
    with raw_server(_hostile_answer(status_line)) as port:
        done = _versectl("probe-stream", f"http://127.0.0.1:{port}/api/x", color=True)
    assert done.returncode == 2
    assert _nothing_hostile(done.stdout + done.stderr), repr(done.stdout + done.stderr)
    assert _only_sgr(done.stdout)
    assert "Oops \\x1b]0;pwned" in done.stdout


def test_escape_check_error_at_line_100_is_not_an_emoji(tmp_path: Path) -> None:
    config = tmp_path / "nginx.conf"
    config.write_text("events {}\n" + "# filler\n" * 98 + "}\n")
    done = _versectl("check", "nginx", "--offline", str(config), color=True)
    assert done.returncode == 2
    assert "nginx.conf:100:" in done.stderr and "💯" not in done.stderr


def test_escape_fix_error_at_line_100_is_not_an_emoji(tmp_path: Path) -> None:
    config = tmp_path / "site.conf"
    config.write_text("server {\n" + "# filler\n" * 98 + "}}\n")
    done = _versectl("fix", str(config), color=True)
    assert done.returncode == 2
    assert "site.conf:100:" in done.stderr and "💯" not in done.stderr


def test_escape_check_report_escapes_control_characters_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "nginx.conf"
    config.write_text(
        "events {}\nhttp {\n  server {\n    listen 80;\n"
        f'    server_name "evil{OSC_TITLE}";\n'
        "    location /api/ { proxy_pass http://127.0.0.1:7776; }\n  }\n}\n"
    )
    for color in (False, True):
        done = _versectl("check", "nginx", "--offline", str(config), color=color)
        assert done.returncode == 1, done.stderr
        assert "evil\\x1b]0;pwned" in done.stdout  # (rich itself drops the BEL)
        assert _only_sgr(done.stdout + done.stderr)
