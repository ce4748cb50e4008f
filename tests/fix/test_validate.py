"""nginx -t on the whole config with the candidate standing in: never touches the live file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fix.configs import config_tree, seed_site, sha256
from tests.support.nginx import require_nginx
from versectl.errors import InputError
from versectl.fix.validate import MainConfig, choose_main_config, find_nginx, validate


def _candidate(tree_site: Path, text: str) -> Path:
    real = tree_site.resolve()
    candidate = real.parent / f".{real.name}.versectl-test.tmp"
    candidate.write_text(text)
    return candidate


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob(".versectl-validate-*"))


def test_validate_passes_a_good_candidate_through_a_relative_glob(tmp_path: Path) -> None:
    binary = require_nginx()
    tree = config_tree(tmp_path, seed_site())
    before = sha256(tree.site)
    candidate = _candidate(tree.site, seed_site().replace("8000", "7776"))
    result = validate(binary, MainConfig(tree.main, "test"), tree.site, candidate, str(tree.site))
    assert result.status == "passed", result.output
    assert sha256(tree.site) == before
    assert _leftovers(tree.root) == []


def test_validate_failure_names_the_users_file_and_line(tmp_path: Path) -> None:
    binary = require_nginx()
    tree = config_tree(tmp_path, seed_site())
    broken = seed_site().replace(
        "proxy_http_version 1.1;", "proxy_http_version 1.1;\n        bogus_directive on;"
    )
    candidate = _candidate(tree.site, broken)
    result = validate(binary, MainConfig(tree.main, "test"), tree.site, candidate, str(tree.site))
    assert result.status == "failed"
    assert not result.failed_before
    line = broken.splitlines().index("        bogus_directive on;") + 1
    assert f"{tree.site} (fixed):{line}" in result.output
    assert ".versectl" not in result.output
    assert _leftovers(tree.root) == []


def test_validate_says_when_the_config_fails_already(tmp_path: Path) -> None:
    binary = require_nginx()
    tree = config_tree(tmp_path, seed_site())
    (tree.root / "sites-enabled" / "other").write_text("server { unknown_thing 1; }\n")
    candidate = _candidate(tree.site, seed_site())
    result = validate(binary, MainConfig(tree.main, "test"), tree.site, candidate, str(tree.site))
    assert result.status == "failed"
    assert result.failed_before
    assert "unknown directive" in result.output_before
    assert f"{tree.root}/sites-enabled/other:1" in result.output_before


def test_validate_a_file_no_main_config_includes(tmp_path: Path) -> None:
    binary = require_nginx()
    site = tmp_path / "verse.conf"
    site.write_text(seed_site())
    candidate = _candidate(site, seed_site().replace("8000", "7776"))
    result = validate(binary, MainConfig(None, "alone"), site, candidate, str(site))
    assert result.status == "passed", result.output
    assert _leftovers(tmp_path) == []


def test_validate_skipped_without_nginx(tmp_path: Path) -> None:
    result = validate(None, MainConfig(None, "x"), tmp_path / "a", tmp_path / "b", "a")
    assert result.status == "skipped"


def test_validate_choose_main_config(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    text = tree.site.read_text()
    explicit = choose_main_config(tree.site, text, explicit=tree.main, binary=None)
    assert explicit.path == tree.main
    main_text = tree.main.read_text()
    assert choose_main_config(tree.main, main_text, explicit=None, binary=None).path == tree.main
    with pytest.raises(InputError, match="does not include"):
        choose_main_config(tmp_path / "x.conf", text, explicit=tree.main, binary=None)
    with pytest.raises(InputError, match="no such file"):
        choose_main_config(tree.site, text, explicit=tmp_path / "missing.conf", binary=None)


def test_validate_find_nginx_explicit_missing_is_bad_input() -> None:
    with pytest.raises(InputError, match="no such executable"):
        find_nginx("/nonexistent/nginx")
