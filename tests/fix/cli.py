"""Running `versectl fix` as a user does: a subprocess, and the check run on the result."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Severity
from versectl.nginx.load import load_config


def run_fix(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`cwd` matters: a ./docker-compose.prod.yml there sets the backend port."""
    return subprocess.run(
        [sys.executable, "-m", "versectl", "fix", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


def api_errors(main: Path, site: Path, backend_port: int = 7776) -> list[str]:
    """check nginx's error findings about the location(s) of `site` (offline)."""
    result = run_check(
        load_config([str(main)]), CheckOptions(backend_port=backend_port, offline=True)
    )
    real = os.path.realpath(site)
    return [
        f"{f.rule}: {f.message}"
        for f in result.findings
        if f.severity == Severity.error
        and f.location_file is not None
        and os.path.realpath(f.location_file) == real
    ]
