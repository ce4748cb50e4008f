"""The shared options are validated alike in every command that takes them: one line, exit 2,
before any config is read or any connection made."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = {
    "check": ["check", "nginx", "--offline"],
    "fix": ["fix"],
    "doctor": ["doctor", "http://127.0.0.1:9/api/chat/message"],
}
"""Where an option reached them, fix and doctor would fail otherwise (no file; port 9)."""
TAKES = {
    "--uri": ("check", "fix", "doctor"),
    "--heartbeat": ("check", "doctor"),
    "--backend-port": ("check", "fix", "doctor"),
    "--compose": ("check", "fix", "doctor"),
}
BAD = {
    "--uri": [("api/chat", "starts with '/'"), ("/api chat", "no spaces")],
    "--heartbeat": [
        ("0", "positive"),
        ("-1", "positive"),
        ("nan", "positive"),
        ("inf", "positive"),
    ],
    "--backend-port": [("0", "not a TCP port"), ("65536", "not a TCP port")],
    "--compose": [("{tmp}", "not a regular file"), ("{tmp}/missing.yml", "No such file")],
}
CASES = [
    (command, option, value, expected)
    for option, commands in TAKES.items()
    for command in commands
    for value, expected in BAD[option]
]


def _versectl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "versectl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


@pytest.mark.parametrize(
    ("command", "option", "value", "expected"),
    CASES,
    ids=[f"{c}{o}={v}" for c, o, v, _ in CASES],
)
def test_options_bad_value_fails_alike(
    command: str, option: str, value: str, expected: str, tmp_path: Path
) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { location /api { proxy_pass http://127.0.0.1:7776; } }\n")
    args = [*COMMANDS[command], option, value.format(tmp=tmp_path)]
    if command != "doctor":
        args.append(str(site))
    done = _versectl(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option} "), done.stderr
    assert expected in lines[0]


@pytest.mark.parametrize("command", ["check", "fix", "doctor"])
def test_options_format_json_error_document(command: str, tmp_path: Path) -> None:
    done = _versectl(*COMMANDS[command], "--uri", "x", "--format", "json", cwd=tmp_path)
    assert done.returncode == 2
    assert '"kind": "input"' in done.stdout and "--uri 'x'" in done.stdout


def test_options_good_values_pass_the_validators(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(
        "server { location /api { proxy_pass http://127.0.0.1:7001; proxy_buffering off; } }\n"
    )
    compose = tmp_path / "compose.yml"
    compose.write_text("services:\n  backend:\n    ports: ['127.0.0.1:7001:7776']\n")
    args = ["--uri", "/api/x", "--heartbeat", "0.5", "--compose", str(compose)]
    done = _versectl(
        "check", "nginx", "--offline", str(site), *args, "--format", "json", cwd=tmp_path
    )
    assert done.returncode in (0, 1), done.stderr
    assert '"backend_port": 7001' in done.stdout
    assert '"uris": [\n        "/api/x"' in done.stdout
