"""Replace a config file with its fixed text so that, killed at any instant, it is old or new.

Steps (each a kill point, see killpoints.py): a temp file next to the target, written and
fsynced; the target's mode, owner and extended attributes copied onto it; the whole config
validated with the temp file standing in (validate.py); a backup; os.replace (atomic within a
directory); fsync of the directory so the rename survives a power cut. A symlink is written
through: the file it points to is replaced and the link stays a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from versectl.errors import FixError
from versectl.fix.killpoints import kill_point
from versectl.fix.validate import Validation


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What was written where."""

    target: Path
    """The file replaced: `path` itself, or the file its symlink points to."""
    backup: Path | None
    validation: Validation


Validator = Callable[[Path, Path], Validation]
"""validate(target, temp file holding the fixed text) -> Validation."""
BackupNamer = Callable[[Path, datetime], Path]


def backup_path(target: Path, now: datetime) -> Path:
    """PATH.versectl-YYYYmmddHHMMSS.bak next to the target (CONTRACT.md)."""
    return target.with_name(f"{target.name}.versectl-{now:%Y%m%d%H%M%S}.bak")


def writable_target(path: Path) -> Path:
    """The real file behind `path`, after checking it can be replaced; FixError if not.

    A file with no write bit is refused even for root (as vim does): someone made it read-only
    on purpose. The directory must take new files: the temp file and the rename live there.
    """
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except FileNotFoundError:
        raise FixError(f"{path}: no such file") from None
    except OSError as exc:
        raise FixError(f"{path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise FixError(f"{target}: not a regular file")
    if not info.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise FixError(f"{target}: read-only (mode {stat.filemode(info.st_mode)}); nothing written")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise FixError(f"{target.parent}: directory not writable; nothing written")
    return target


def write_fixed(
    path: Path,
    original: bytes,
    fixed: bytes,
    *,
    validate: Validator,
    backup: BackupNamer | None,
    now: datetime,
) -> WriteResult:
    """Validate `fixed` and put it in place of `path`, whose content must still be `original`.

    Raises FixError (the file untouched, no temp file left) when the target cannot be written,
    validation fails, or the file changed since it was read.
    """
    target = writable_target(path)
    info = target.stat()
    with _temp_next_to(target) as (fd, temp):
        kill_point("temp_created")
        try:
            _write_all(fd, fixed, "temp_partial")
            os.fsync(fd)
        except OSError as exc:  # ENOSPC, EDQUOT, EIO: the temp goes, the original stays
            raise FixError(
                f"{target.parent}: cannot write the fixed file ({exc.strerror}); "
                f"{path} is unchanged"
            ) from None
        kill_point("temp_written")
        _copy_metadata(fd, temp, info, target)
        kill_point("metadata_copied")
        validation = validate(target, temp)
        if validation.status == "failed":
            raise _validation_error(path, validation)
        kill_point("validated")
        if target.read_bytes() != original:
            raise FixError(f"{path} changed while versectl was fixing it; nothing written")
        saved = _backup(target, original, info, backup(target, now)) if backup else None
        temp.replace(target)  # atomic: same directory, same filesystem
    kill_point("replaced")
    _fsync_directory(target.parent)
    kill_point("dir_synced")
    return WriteResult(target, saved, validation)


@contextlib.contextmanager
def _temp_next_to(target: Path) -> Iterator[tuple[int, Path]]:
    """A hidden temp file in the target's directory (same filesystem: os.replace is atomic;
    a leading dot: `include sites-enabled/*` never loads it), removed unless renamed."""
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.versectl-", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise FixError(f"{target.parent}: cannot create a file ({exc.strerror})") from None
    temp = Path(name)
    try:
        yield fd, temp
    finally:
        os.close(fd)
        temp.unlink(missing_ok=True)  # after os.replace the name is gone: nothing to do


def _write_all(fd: int, data: bytes, halfway_step: str) -> None:
    half = len(data) // 2
    for index, piece in enumerate((data[:half], data[half:])):
        view = memoryview(piece)
        while view:
            view = view[os.write(fd, view) :]
        if index == 0:
            kill_point(halfway_step)


def _copy_metadata(fd: int, temp: Path, info: os.stat_result, target: Path) -> None:
    """Owner first (chown clears setuid bits), then mode, then extended attributes (an SELinux
    label, ACLs): the new file must be what the old one was, or nginx may not read it."""
    if (info.st_uid, info.st_gid) != (os.fstat(fd).st_uid, os.fstat(fd).st_gid):
        try:
            os.fchown(fd, info.st_uid, info.st_gid)
        except PermissionError:
            raise FixError(
                f"{target}: cannot keep its owner {info.st_uid}:{info.st_gid} "
                "(run as root or as the owner); nothing written"
            ) from None
    os.fchmod(fd, stat.S_IMODE(info.st_mode))
    for name in _xattrs(target):
        with contextlib.suppress(OSError):
            os.setxattr(temp, name, os.getxattr(target, name))


def _xattrs(path: Path) -> list[str]:
    try:
        return os.listxattr(path)
    except OSError:  # not supported by the filesystem
        return []


def _backup(target: Path, original: bytes, info: os.stat_result, wanted: Path) -> Path:
    """A complete copy of the original at `wanted` (or `wanted` with -N): written to a temp file
    and linked into place, so a kill never leaves a truncated backup under the final name."""
    with _temp_next_to(target) as (fd, temp):
        try:
            _write_all(fd, original, "backup_partial")
            os.fsync(fd)
        except OSError as exc:
            raise FixError(
                f"{target.parent}: cannot write the backup ({exc.strerror}); {target} is "
                "unchanged (or run with --no-backup)"
            ) from None
        _copy_metadata(fd, temp, info, target)
        for attempt in range(1, 100):
            candidate = wanted if attempt == 1 else wanted.with_name(f"{wanted.stem}-{attempt}.bak")
            try:
                os.link(temp, candidate)
            except FileExistsError:
                continue
            except OSError as exc:
                raise FixError(f"{candidate}: cannot write the backup ({exc.strerror})") from None
            kill_point("backup_written")
            return candidate
    raise FixError(f"{wanted}: too many backups with this name")


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):  # some filesystems cannot fsync dirs
            raise
    finally:
        os.close(fd)


def _validation_error(path: Path, validation: Validation) -> FixError:
    context = f"(validated with {validation.how}; --nginx-conf names another main config)"
    if validation.failed_before:
        return FixError(
            f"nginx -t fails already without the fix, so the fix cannot be validated; "
            f"{path} is unchanged {context}. nginx said:\n{validation.output_before}"
        )
    return FixError(
        f"nginx -t rejects the fixed {path}; it is unchanged {context}. nginx said:\n"
        f"{validation.output}"
    )
