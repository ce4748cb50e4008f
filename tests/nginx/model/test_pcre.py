"""Config regexes are input: PCRE forms still select, and a pattern that backtracks without end
is one clear error (exit 2) in bounded time, in location and server_name alike."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from versectl.errors import ConfigParseError
from versectl.nginx.model.pcre import MATCH_TIMEOUT, compile_regex, regex_search

EVIL = "^/(a|aa)+$"
"""Exponential in the length of a run of `a` that does not end the subject."""


def _check(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "versectl", "check", "nginx", "--offline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, time.monotonic() - started


def test_pcre_forms_compile_and_match() -> None:
    named = compile_regex(r"^/api/(?<rest>.+)$", False)
    assert named is not None and regex_search(named, "/api/chat")
    possessive = compile_regex(r"^/api/[a-z]++/x", False)
    assert possessive is not None and regex_search(possessive, "/api/chat/x")
    caseless = compile_regex(r"\.PHP$", True)
    assert caseless is not None and regex_search(caseless, "/index.php")
    assert not regex_search(caseless, "/index.html")
    assert compile_regex("(unclosed", False) is None


def test_pcre_backtracking_pattern_is_a_config_error_in_bounded_time() -> None:
    compiled = compile_regex(EVIL, False)
    assert compiled is not None
    started = time.monotonic()
    with pytest.raises(ConfigParseError, match="backtracks without end"):
        regex_search(compiled, "/" + "a" * 64 + "b")
    # the bound is MATCH_TIMEOUT; the regex module checks it now and then, and the machine is
    # shared: a generous margin (unbounded, this match runs for centuries)
    assert time.monotonic() - started < MATCH_TIMEOUT * 100


def test_check_hostile_location_regex_exit_2_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(
        "server {\n    listen 80;\n    server_name chat.example;\n"
        f'    location ~ "{EVIL}" {{ return 204; }}\n'
        "    location /api/ { proxy_pass http://127.0.0.1:7776; }\n}\n"
    )
    result, took = _check(str(conf), "--uri", "/" + "a" * 64 + "b")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"{conf}:4" in lines[0] and "backtracks without end" in lines[0]
    assert took < 30


def test_check_hostile_server_name_regex_exit_2_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(
        'server {\n    listen 80 default_server;\n    server_name "~^(a|aa)+$";\n'
        "    location /api/ { proxy_pass http://127.0.0.1:7776; }\n}\n"
        "server {\n    listen 80;\n    server_name chat.example;\n"
        "    location /api/ { proxy_pass http://127.0.0.1:7776; }\n}\n"
    )
    result, took = _check(str(conf), "--host", "a" * 60 + ".example")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "backtracks without end" in lines[0], result.stderr
    assert took < 30
    # a name the exact hash answers never reaches the regex
    fine, _ = _check(str(conf), "--host", "chat.example")
    assert fine.returncode in (0, 1), fine.stderr
