"""Running `versectl probe-stream` as a user does: a subprocess with a fixed terminal width."""

from __future__ import annotations

import os
import subprocess
import sys


def run_probe(
    *args: str, env: dict[str, str] | None = None, columns: int = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "versectl", "probe-stream", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": str(columns), **(env or {})},
        check=False,
    )
