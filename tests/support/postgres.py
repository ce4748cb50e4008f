"""A real PostgreSQL server for tests: Debian's initdb + pg_ctl under a temp dir, run as an
unprivileged user, listening only on a unix socket there. Missing binaries skip locally and
fail in CI (CI=true)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

RUN_AS = "nobody"
SUPERUSER = "verse"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _demote(uid: int, gid: int) -> None:
    os.setgid(gid)
    os.setuid(uid)


def _options(root: Path) -> str:
    return f"-c listen_addresses='' -c unix_socket_directories={root} -c fsync=off"


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("PostgreSQL is not installed")
    # Not under pytest's tmp dir: that one is private to root, and postgres refuses root.
    root = Path(tempfile.mkdtemp(prefix="verse-pg-"))
    data = root / "data"
    user = pwd.getpwnam(RUN_AS) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    os.chown(root, user.pw_uid, user.pw_gid)
    demote = None
    if os.geteuid() == 0:
        uid, gid = user.pw_uid, user.pw_gid

        def demote() -> None:
            _demote(uid, gid)

    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    run = dict(env=env, preexec_fn=demote, cwd=root, check=True, capture_output=True)
    try:
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"],
            **run,  # type: ignore[call-overload]
        )
        options = _options(root)
        subprocess.run(
            [bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-o", options, "start"],
            **run,  # type: ignore[call-overload]
        )
        yield PostgresServer(root)
    except subprocess.CalledProcessError as error:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr!r} {log[-2000:]}") from None
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                env=env,
                preexec_fn=demote,
                cwd=root,
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


def _pg_ctl(server: PostgresServer, *args: str) -> None:
    bin_dir = _bin_dir()
    assert bin_dir is not None  # the server runs
    root = server.socket_dir
    demote = None
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)

        def demote() -> None:
            _demote(user.pw_uid, user.pw_gid)

    subprocess.run(
        [bin_dir / "pg_ctl", "-D", root / "data", "-l", root / "log", "-w", *args],
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        preexec_fn=demote,
        cwd=root,
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def server_stopped(server: PostgresServer) -> Iterator[None]:
    """The server stopped (fast: its connections are cut), then started again on the same
    data dir and socket, for tests of an outage. Not for the session's shared server."""
    _pg_ctl(server, "-m", "fast", "stop")
    try:
        yield
    finally:
        _pg_ctl(server, "-o", _options(server.socket_dir), "start")
