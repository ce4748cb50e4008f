"""Python run in a fresh interpreter, for what only a new process shows: which modules a
command imports, the collector's state, output without a terminal."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

# The console script's entry point under `argv`, its exit ignored, then the loaded modules
# written to a file (stdout and stderr stay the command's own).
_VERSECTL_MODULES = """
import sys, runpy
argv, listing = sys.argv[1:-1], sys.argv[-1]
sys.argv = ['versectl', *argv]
try:
    runpy.run_module('versectl', run_name='__main__')
except SystemExit:
    pass
open(listing, 'w').write('\\n'.join(sys.modules))
"""


def run_python(
    code: str,
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """`python -c code args...`, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        cwd=cwd,
        env=env,
    )


def versectl_modules(
    *args: str, cwd: Path | None = None
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules `versectl args...` loaded (stdout piped: no terminal), and the run."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "modules.txt"
        done = run_python(_VERSECTL_MODULES, *args, str(listing), cwd=cwd, check=False)
        return set(listing.read_text().split()), done
