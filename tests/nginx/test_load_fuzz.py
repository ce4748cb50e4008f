"""Fuzzing the loader and the check behind it: random bytes, token soup (quotes, braces,
escapes, includes, a BOM, NULs) and deep nesting. Whatever the input, the outcome is a result
or one VersectlError (exit 2), never another exception, and always in bounded time."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from versectl.errors import VersectlError
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.load import load_config

PIECES = [
    "server",
    "location",
    "/api/",
    "/",
    "{",
    "}",
    ";",
    '"',
    "'",
    "\\",
    "#",
    "\n",
    " ",
    "\t",
    "include",
    "*.conf",
    "site.conf",
    "other.conf",
    "proxy_pass",
    "http://127.0.0.1:7776",
    "http://$host",
    "if",
    "($a = b)",
    "$",
    "${",
    "}}",
    "\ufeff",
    "\0",
    "\u00e9",
    "\r",
    "proxy_buffering",
    "off",
    "on",
    "events",
    "http",
    "~",
    "^~",
    "=",
    "~*",
    "upstream",
    "x",
    "gzip",
    "gzip_types",
    "text/event-stream",
    "return",
    "200",
    "map",
    "default",
    "set",
    "proxy_read_timeout",
    "1d",
    "-1",
    "99999999999999999999s",
    "listen",
    "80",
    "[::1]:443",
    "server_name",
    "*.example.com",
    "limit_except",
    "GET",
    "add_header",
    "X-Accel-Buffering",
]
_soup = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


@st.composite
def _nested(draw: st.DrawFn) -> str:
    # around versectl's limit (100), and past Python's recursion limit (the 2000)
    depth = draw(st.integers(0, 160) | st.integers(900, 2500))
    inner = draw(_soup)
    opener = draw(st.sampled_from(["location /a {", "if ($a) {", "server {", "{"]))
    closers = draw(st.integers(min_value=max(0, depth - 2), max_value=depth + 2))
    return "server {\n" + f"{opener}\n" * depth + inner + "}\n" * closers + "}\n"


_text = st.one_of(_soup, _nested(), st.text(max_size=300))
_bytes = st.one_of(_text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=600))

BOUND_SECONDS = 10.0  # generous: a real run takes milliseconds


def _check(folder: Path, data: bytes, other: bytes) -> None:
    site = folder / "site.conf"
    site.write_bytes(data)
    (folder / "other.conf").write_bytes(other)
    started = time.monotonic()
    try:
        config = load_config([str(site)])
        run_check(config, CheckOptions(offline=True, uris=("/api/chat/message", "//a/../api/")))
    except VersectlError as exc:
        message = str(exc)
        assert message and "\n" not in message.strip(), message
    assert time.monotonic() - started < BOUND_SECONDS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_bytes, other=_bytes)
@example(data=b"\\n", other=b"")  # an escape decoded to a newline, quoted in the error message
def test_fuzz_load_and_check_only_raise_versectl_errors(data: bytes, other: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _check(Path(folder), data, other)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_bytes)
def test_fuzz_cli_exit_codes_and_no_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site.conf"
        site.write_bytes(data)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "versectl",
                "check",
                "nginx",
                "--offline",
                "--format",
                "json",
                str(site),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert result.returncode in (0, 1, 2), result.stderr
    assert b"Traceback" not in result.stderr
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    else:
        assert result.stdout.lstrip().startswith(b"{")
