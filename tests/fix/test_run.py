"""run_fix in process: the paths a subprocess cannot reach (no nginx installed), and the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.fix.configs import seed_site
from versectl import cli
from versectl.fix.run import FixOptions, run_fix
from versectl.nginx import binary as binary_module
from versectl.nginx.check import DEFAULT_URIS


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["versectl", "fix", *args])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    return int(exited.value.code or 0)


def test_run_without_nginx_writes_and_says_validation_was_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(binary_module, "CANDIDATES", ())
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "verse.conf"
    site.write_text(seed_site())
    assert _main(monkeypatch, str(site), "--write", "--no-backup") == 0
    captured = capsys.readouterr()
    assert "VALIDATION SKIPPED" in captured.err
    assert "NOT checked" in captured.err
    assert "proxy_buffering off;" in site.read_text()


def test_run_without_nginx_warns_in_json_mode_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(binary_module, "CANDIDATES", ())
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "verse.conf"
    site.write_text(seed_site())
    assert _main(monkeypatch, str(site), "--write", "--format", "json") == 0
    captured = capsys.readouterr()
    assert "VALIDATION SKIPPED" in captured.err
    document = json.loads(captured.out)
    assert document["validation"]["status"] == "skipped" and document["written"] is True
    assert document["backup"].endswith(".bak")


def test_run_dry_run_outcome(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "verse.conf"
    site.write_text(seed_site())
    outcome = run_fix(FixOptions(path=site, uris=DEFAULT_URIS))
    assert outcome.plan.changed and outcome.written is None
    assert outcome.diff.count("\n+") > outcome.diff.count("\n-")
    assert site.read_text() == seed_site()
    assert [c.action for c in outcome.plan.changes] == ["rewrite"]
