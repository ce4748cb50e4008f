"""`make demo` tells the whole story on a real nginx: buffered before the fix, streaming after."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.nginx import require_nginx


def test_demo_goes_from_buffered_to_streaming() -> None:
    require_nginx()
    env = os.environ | {"VERSE_SIM_TOKEN_MS": "10", "COLUMNS": "120"}
    result = subprocess.run(
        [sys.executable, "-m", "versectl.demo"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    verdicts = re.findall(r"^verdict\s+(\w+)", result.stdout, flags=re.MULTILINE)
    # alone; through broken nginx (+ direct); after the fix
    assert verdicts == ["streaming", "buffered", "streaming", "streaming"], verdicts
    exits = re.findall(r"^\(exit (\d+)\)", result.stdout, flags=re.MULTILINE)
    # probe, check (errors), probe (buffered), fix dry run, fix --write, check, probe
    assert exits == ["0", "1", "1", "1", "0", "0", "0"], exits
