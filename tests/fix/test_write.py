"""The atomic write: metadata kept, symlinks written through, refusals leave the file untouched."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from versectl.errors import FixError
from versectl.fix.validate import Validation
from versectl.fix.write import backup_path, write_fixed

NOW = datetime(2025, 1, 2, 3, 4, 5)
OLD = b"server { listen 80; }\n"
NEW = b"server { listen 8080; }\n"


def _passes(_target: Path, _temp: Path) -> Validation:
    return Validation("passed", "test")


def _dir_listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_write_replaces_content_and_keeps_mode_and_owner(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)
    site.chmod(0o640)
    if os.geteuid() == 0:
        os.chown(site, 1234, 5678)
    before = site.stat()
    result = write_fixed(site, OLD, NEW, validate=_passes, backup=backup_path, now=NOW)
    after = site.stat()
    assert site.read_bytes() == NEW
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # a new file renamed over, not rewritten in place
    assert result.backup == tmp_path / "verse.versectl-20250102030405.bak"
    assert result.backup.read_bytes() == OLD
    assert stat.S_IMODE(result.backup.stat().st_mode) == 0o640
    assert _dir_listing(tmp_path) == ["verse", "verse.versectl-20250102030405.bak"]


def test_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    real = tmp_path / "sites-available" / "verse"
    real.write_bytes(OLD)
    link = tmp_path / "sites-enabled" / "verse"
    link.symlink_to("../sites-available/verse")
    result = write_fixed(link, OLD, NEW, validate=_passes, backup=backup_path, now=NOW)
    assert link.is_symlink() and os.readlink(link) == "../sites-available/verse"
    assert real.read_bytes() == NEW
    assert result.target == real
    assert result.backup is not None and result.backup.parent == real.parent
    assert _dir_listing(tmp_path / "sites-enabled") == ["verse"]


def test_write_failed_validation_keeps_the_original(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)

    def fails(_target: Path, _temp: Path) -> Validation:
        return Validation("failed", "test", ["nginx", "-t"], "nginx: [emerg] no")

    with pytest.raises(FixError, match="rejects"):
        write_fixed(site, OLD, NEW, validate=fails, backup=backup_path, now=NOW)
    assert site.read_bytes() == OLD
    assert _dir_listing(tmp_path) == ["verse"]


def test_write_validator_sees_the_candidate_next_to_the_target(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)
    seen: list[tuple[bytes, bytes, Path]] = []

    def look(target: Path, temp: Path) -> Validation:
        seen.append((target.read_bytes(), temp.read_bytes(), temp))
        return Validation("passed", "test")

    write_fixed(site, OLD, NEW, validate=look, backup=None, now=NOW)
    ((live, candidate, temp),) = seen
    assert (live, candidate) == (OLD, NEW)
    assert temp.parent == tmp_path and temp.name.startswith(".verse.versectl-")


def test_write_refuses_when_the_file_changed_meanwhile(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)

    def someone_edits(target: Path, _temp: Path) -> Validation:
        target.write_bytes(b"# edited by hand\n")
        return Validation("passed", "test")

    with pytest.raises(FixError, match="changed while"):
        write_fixed(site, OLD, NEW, validate=someone_edits, backup=backup_path, now=NOW)
    assert site.read_bytes() == b"# edited by hand\n"
    assert _dir_listing(tmp_path) == ["verse"]


def test_write_refuses_a_read_only_file(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)
    site.chmod(0o444)
    with pytest.raises(FixError, match="read-only"):
        write_fixed(site, OLD, NEW, validate=_passes, backup=backup_path, now=NOW)
    assert site.read_bytes() == OLD


def test_write_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FixError, match="no such file"):
        write_fixed(tmp_path / "nope", OLD, NEW, validate=_passes, backup=None, now=NOW)


def test_write_second_backup_in_the_same_second_gets_a_number(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)
    first = write_fixed(site, OLD, NEW, validate=_passes, backup=backup_path, now=NOW)
    second = write_fixed(site, NEW, OLD, validate=_passes, backup=backup_path, now=NOW)
    assert first.backup is not None and second.backup is not None
    assert second.backup.name == "verse.versectl-20250102030405-2.bak"
    assert (first.backup.read_bytes(), second.backup.read_bytes()) == (OLD, NEW)


def test_write_without_backup(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_bytes(OLD)
    result = write_fixed(site, OLD, NEW, validate=_passes, backup=None, now=NOW)
    assert result.backup is None
    assert _dir_listing(tmp_path) == ["verse"]
