"""Test hook: SIGKILL this process at a named step of a write, to prove no step leaves a broken file.

Set VERSECTL_FIX_KILL_AT=<step> (one of STEPS); unset, it costs one environment lookup per step.
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "VERSECTL_FIX_KILL_AT"
STEPS = (
    "temp_created",
    "temp_partial",
    "temp_written",
    "metadata_copied",
    "validation_files_written",
    "validated",
    "backup_partial",
    "backup_written",
    "replaced",
    "dir_synced",
)
"""Every step of `write_fixed` in order, as named in its code."""


def kill_point(step: str) -> None:
    """Die here, as `kill -9` would make us, when the test asked for this step."""
    assert step in STEPS, step
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
