"""What a refused input must look like from outside: exit 2, one `error:` line, no traceback."""

from __future__ import annotations

import subprocess


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The single error line of a run that refused its input (asserting it is one)."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]
