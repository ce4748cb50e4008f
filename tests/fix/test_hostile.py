"""Hostile input and faults for `versectl fix` (issue 9): special files, a full disk, quoted
values, shared snippets. Each ends in a one-line error and exit 2, or in a correct fix."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.cli import api_errors, run_fix
from tests.fix.configs import config_tree, seed_site, sha256, shared_snippet_tree
from tests.support.exit_two import one_line_error
from tests.support.nginx import require_nginx


def test_hostile_fifo_as_path_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    assert "not a regular file" in one_line_error(run_fix(fifo, cwd=tmp_path))


def test_hostile_dev_zero_is_refused(tmp_path: Path) -> None:
    assert "not a regular file" in one_line_error(run_fix("/dev/zero", cwd=tmp_path))


def test_hostile_fifo_in_an_include_glob_inside_the_block(tmp_path: Path) -> None:
    site = seed_site().replace(
        "        proxy_read_timeout 90;\n", "        include snippets/*.conf;\n"
    )
    tree = config_tree(tmp_path, site)
    (tree.root / "snippets").mkdir()
    os.mkfifo(tree.root / "snippets" / "x.conf")
    for extra in ([], ["--write"]):
        message = one_line_error(
            run_fix(tree.site, *extra, "--nginx-conf", tree.main, cwd=tmp_path)
        )
        assert "x.conf" in message and "not a regular file" in message


def test_hostile_binary_and_huge_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "bin.conf"
    binary.write_bytes(b"server {\0\0\0\x01\x02}")
    assert "binary" in one_line_error(run_fix(binary, cwd=tmp_path))
    huge = tmp_path / "huge.conf"
    with huge.open("wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: no real disk used
    assert "too large" in one_line_error(run_fix(huge, cwd=tmp_path))


def test_hostile_multiline_quoted_values_and_comments_survive_a_write(tmp_path: Path) -> None:
    require_nginx()
    csp = "\"default-src 'self';\n            script-src 'self'\""
    site = seed_site().replace(
        "        proxy_read_timeout 90;\n",
        "        # the policy of the app\n"
        f"        add_header Content-Security-Policy {csp};\n"
        "        set $x 'a\n}\nb';  # a brace inside quotes\n"
        "        proxy_read_timeout 90;  # why: slow model\n",
    )
    tree = config_tree(tmp_path, site)
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fixed = tree.site.read_text()
    assert (
        "        # the policy of the app\n"
        f"        add_header Content-Security-Policy {csp};\n"
        "        set $x 'a\n}\nb';  # a brace inside quotes\n"
        "        proxy_read_timeout 90;  # why: slow model\n"
    ) in fixed
    assert api_errors(tree.main, tree.site) == []
    again = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert again.returncode == 0 and "Nothing to change" in again.stdout


def _shared_tree(tmp_path: Path) -> tuple[Path, Path, Path]:
    snippet_body = "location /api {\n    proxy_pass http://127.0.0.1:7776;\n}\n"
    tree, snippet = shared_snippet_tree(tmp_path, snippet_body, ("a.example", "b.example"))
    return tree.main, tree.site, snippet


def test_hostile_shared_snippet_is_refused_without_force(tmp_path: Path) -> None:
    main, _site, snippet = _shared_tree(tmp_path)
    before = sha256(snippet)
    done = run_fix(
        snippet, "--write", "--nginx-conf", main, "--server-name", "a.example", cwd=tmp_path
    )
    message = one_line_error(done)
    assert "shared" in message and "a.example" in message and "b.example" in message
    assert "--force" in message
    assert sha256(snippet) == before


def test_hostile_shared_snippet_with_force_is_fixed_and_says_so(tmp_path: Path) -> None:
    require_nginx()
    main, _site, snippet = _shared_tree(tmp_path)
    done = run_fix(
        snippet, "--write", "--force", "--nginx-conf", main, "--server-name", "a.example",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "b.example" in done.stdout and "shared" in done.stdout
    assert "proxy_buffering off;" in snippet.read_text()
    assert api_errors(main, snippet) == []


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (root only: CI runs as root, so there it always runs)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("the full-disk test needs root (mount -t tmpfs) and CI runs as root")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def _fill(directory: Path) -> None:
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_hostile_disk_full_during_write_keeps_the_original(tmp_path: Path, tiny_disk: Path) -> None:
    require_nginx()
    tree = config_tree(tmp_path, "")
    site = tiny_disk / "verse.conf"
    site.write_text(seed_site())
    tree.main.write_text(tree.main.read_text().replace("sites-enabled/*", str(site)))
    _fill(tiny_disk)
    before = site.read_bytes()
    message = one_line_error(run_fix(site, "--write", "--nginx-conf", tree.main, cwd=tmp_path))
    assert "No space left on device" in message and "unchanged" in message
    assert site.read_bytes() == before
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "verse.conf"]


@pytest.mark.parametrize("uri", ["api/chat", "/api chat", "/api\x1b[2J"])
def test_hostile_uri_that_is_no_request_path_is_refused(tmp_path: Path, uri: str) -> None:
    site = tmp_path / "site.conf"
    site.write_text(seed_site())
    message = one_line_error(run_fix(site, "--uri", uri, cwd=tmp_path))
    assert "--uri" in message and "\x1b" not in message
