"""Backups nginx itself would load (include sites-enabled/*) are hidden with a leading dot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.fix.configs import config_tree, seed_site
from versectl.fix.backup import backup_plan

NOW = datetime(2025, 1, 2, 3, 4, 5)


def test_backup_in_a_globbed_directory_is_hidden(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    plan = backup_plan(tree.main)
    name = plan.name(tree.site, NOW)
    assert name == tree.site.with_name(".verse.versectl-20250102030405.bak")
    assert plan.hidden_because == ["sites-enabled/*"]


def test_backup_next_to_a_symlink_target_outside_the_glob_keeps_the_contract_name(
    tmp_path: Path,
) -> None:
    tree = config_tree(tmp_path, seed_site(), symlinked=True)
    plan = backup_plan(tree.main)
    target = tree.site.resolve()
    assert plan.name(target, NOW) == target.with_name("verse.versectl-20250102030405.bak")
    assert plan.hidden_because == []


def test_backup_without_a_main_config_keeps_the_contract_name(tmp_path: Path) -> None:
    assert (
        backup_plan(None).name(tmp_path / "v.conf", NOW).name
        == "v.conf.versectl-20250102030405.bak"
    )
