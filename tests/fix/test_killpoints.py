"""SIGKILL at every step of a write leaves the old file or the new one, never a broken one."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.fix.cli import run_fix
from tests.fix.configs import config_tree, seed_site
from tests.support.nginx import require_nginx
from versectl.fix.killpoints import KILL_ENV, STEPS


@pytest.fixture(scope="module")
def fixed_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The file a complete, uninterrupted `fix --write` produces."""
    require_nginx()
    base = tmp_path_factory.mktemp("reference")
    tree = config_tree(base, seed_site())
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=base)
    assert done.returncode == 0, done.stderr
    return tree.site.read_text()


@pytest.mark.parametrize("step", STEPS)
def test_killpoints_every_step_leaves_old_or_new(
    step: str, fixed_text: str, tmp_path: Path
) -> None:
    binary = require_nginx()
    original = seed_site()
    tree = config_tree(tmp_path, original)

    killed = run_fix(
        tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path, env={KILL_ENV: step}
    )
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)

    replaced = STEPS.index(step) >= STEPS.index("replaced")
    assert tree.site.read_text() == (fixed_text if replaced else original)
    leftovers = [p for p in (tree.root / "sites-enabled").iterdir() if p.name != "verse"]
    leftovers += list(tree.root.glob(".versectl-validate-*"))
    assert all(p.name.startswith(".") for p in leftovers), leftovers  # include globs skip them
    for backup in (p for p in leftovers if p.name.endswith(".bak")):
        assert backup.read_text() == original  # a backup under its final name is complete
    nginx_t = subprocess.run(
        [binary, "-t", "-c", str(tree.main)], capture_output=True, text=True, check=False
    )
    assert nginx_t.returncode == 0, nginx_t.stderr

    again = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert tree.site.read_text() == fixed_text
