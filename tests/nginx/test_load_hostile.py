"""Hostile configs for the loader: a BOM, blocks nested 2000 deep, files included twice over
30 levels, includes nested past the limit, a conf.d the user cannot read. Each is one clear
error (exit 2), found in bounded time, or (include depth within limits) loaded as nginx does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from versectl.errors import ConfigLoadError, ConfigParseError
from versectl.nginx.lexer import MAX_DEPTH
from versectl.nginx.load import MAX_INCLUDE_DEPTH, load_config
from versectl.nginx.sources import MAX_CONFIG_BYTES

NOBODY = 65534


def check_cli(*args: str, as_nobody: bool = False) -> subprocess.CompletedProcess[str]:
    """`versectl check nginx --offline ARGS` in a subprocess, as `nobody` when asked: the
    tests run as root, where mode bits are ignored. setpriv (util-linux) rather than a
    setuid in preexec_fn: the interpreter lives under /root (pyenv), which nobody cannot
    traverse at exec time, and setpriv keeps its capabilities until the exec is done."""
    prefix: list[str] = []
    if as_nobody and os.geteuid() == 0:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "versectl", "check", "nginx", "--offline", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory `nobody` can reach (pytest's tmp_path sits under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="versectl-loader-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_load_bom_is_refused_as_nginx_does(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_bytes(b"\xef\xbb\xbfserver { listen 80; }\n")
    with pytest.raises(ConfigParseError, match="byte order mark") as caught:
        load_config([str(site)])
    assert (caught.value.file, caught.value.line) == (str(site), 1)


def test_load_bom_in_an_included_file(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include site.conf; }\n")
    (tmp_path / "site.conf").write_bytes(b"\xef\xbb\xbfserver { listen 80; }\n")
    with pytest.raises(ConfigParseError, match="byte order mark") as caught:
        load_config([str(tmp_path / "nginx.conf")])
    assert caught.value.file == str(tmp_path / "site.conf")


def test_load_bom_cli_exit_2(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_bytes(b"\xef\xbb\xbfserver { listen 80; }\n")
    assert "byte order mark" in _one_error_line(check_cli(str(site)))


def _nested(depth: int) -> str:
    return "server {\n" + "location /a {\n" * depth + "}\n" * depth + "}\n"


def test_load_nesting_up_to_the_limit_loads(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(_nested(MAX_DEPTH - 1))  # the server block is one level
    config = load_config([str(site)])
    assert config.root[0].name == "server"


def test_load_nested_2000_deep_is_one_error(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(_nested(2000))
    with pytest.raises(ConfigParseError, match=f"nested more than {MAX_DEPTH} deep") as caught:
        load_config([str(site)])
    assert caught.value.line == MAX_DEPTH + 1
    for fmt in ("table", "json"):
        line = _one_error_line(check_cli("--format", fmt, str(site)))
        assert "nested more than" in line


def test_load_nesting_across_includes_is_bounded(tmp_path: Path) -> None:
    # each file alone is shallow enough; spliced together they are not
    half = MAX_DEPTH // 2 + 1
    (tmp_path / "inner.conf").write_text("location /a {\n" * half + "}\n" * half)
    site = tmp_path / "site.conf"
    site.write_text(
        "server {\n" + "location /a {\n" * half + "include inner.conf;\n" + "}\n" * (half + 1)
    )
    with pytest.raises(ConfigParseError, match="blocks nest more than") as caught:
        load_config([str(site)])
    assert caught.value.file == str(site)


def test_load_files_included_twice_30_deep_is_refused_fast(tmp_path: Path) -> None:
    # 3 KB on disk, 2**30 copies spliced: the MemoryError
    for level in range(30):
        (tmp_path / f"f{level}.conf").write_text(
            f"include f{level + 1}.conf;\ninclude f{level + 1}.conf;\n"
            + "proxy_set_header X-Padding abcdefghijklmnopqrstuvwxyz;\n"
        )
    (tmp_path / "f30.conf").write_text("proxy_buffering off;\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp {\n    include f0.conf;\n}\n")
    with pytest.raises(ConfigLoadError, match="spliced in") as caught:
        load_config([str(tmp_path / "nginx.conf")])
    assert f"{MAX_CONFIG_BYTES // 1024 // 1024} MiB" in str(caught.value)
    assert "spliced in" in _one_error_line(check_cli(str(tmp_path / "nginx.conf")))


def test_load_files_included_many_times_within_the_cap_load(tmp_path: Path) -> None:
    # 2**10 copies of a small snippet is big but legal: loaded, every copy in place
    for level in range(10):
        (tmp_path / f"f{level}.conf").write_text(
            f"include f{level + 1}.conf;\ninclude f{level + 1}.conf;\n"
        )
    (tmp_path / "f10.conf").write_text("proxy_buffering off;\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp {\n    include f0.conf;\n}\n")
    config = load_config([str(tmp_path / "nginx.conf")])
    http = config.root[1]
    assert len(http.block or ()) == 2**10


def test_load_include_chain_deeper_than_the_limit(tmp_path: Path) -> None:
    count = MAX_INCLUDE_DEPTH + 5
    for level in range(count):
        (tmp_path / f"f{level}.conf").write_text(f"include f{level + 1}.conf;\n")
    (tmp_path / f"f{count}.conf").write_text("gzip off;\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include f0.conf; }\n")
    with pytest.raises(ConfigParseError, match=f"nested more than {MAX_INCLUDE_DEPTH} files"):
        load_config([str(tmp_path / "nginx.conf")])


def test_load_include_chain_within_the_limit(tmp_path: Path) -> None:
    count = MAX_INCLUDE_DEPTH - 2
    for level in range(count):
        (tmp_path / f"f{level}.conf").write_text(f"include f{level + 1}.conf;\n")
    (tmp_path / f"f{count}.conf").write_text("gzip off;\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include f0.conf; }\n")
    config = load_config([str(tmp_path / "nginx.conf")])
    assert [d.name for d in config.root[1].block or ()] == ["gzip"]


GZIP_SITE = """server {
    listen 80;
    location /api/ {
        proxy_pass http://127.0.0.1:7776;
        proxy_http_version 1.1;
    }
}
"""


def _conf_d(root: Path) -> Path:
    """nginx.conf including conf.d/*.conf, where conf.d (root's, mode 0700) holds the site
    and the gzip setting that breaks it: an unprivileged user sees an empty glob."""
    (root / "conf.d").mkdir()
    (root / "conf.d" / "site.conf").write_text(GZIP_SITE)
    (root / "conf.d" / "gzip.conf").write_text("gzip on;\ngzip_types text/event-stream;\n")
    (root / "nginx.conf").write_text(
        f"events {{}}\nhttp {{\n    include {root}/conf.d/*.conf;\n}}\n"
    )
    (root / "conf.d").chmod(0o700)
    return root / "nginx.conf"


def test_load_unreadable_include_directory_as_nobody(shared_dir: Path) -> None:
    main = _conf_d(shared_dir)
    as_root = check_cli(str(main))
    assert as_root.returncode == 1, as_root.stdout  # the gzip error, seen
    assert "gzip-event-stream" in as_root.stdout
    line = _one_error_line(check_cli(str(main), as_nobody=True))
    assert f"{shared_dir}/conf.d: cannot read (Permission denied" in line
    assert "sudo" in line


def test_load_unreadable_include_file_as_nobody(shared_dir: Path) -> None:
    (shared_dir / "secret.conf").write_text("gzip on;\n")
    (shared_dir / "secret.conf").chmod(0o600)
    (shared_dir / "nginx.conf").write_text("events {}\nhttp { include secret.conf; }\n")
    line = _one_error_line(check_cli(str(shared_dir / "nginx.conf"), as_nobody=True))
    assert "secret.conf: cannot read (Permission denied" in line


def test_load_permission_denied_main_file_as_nobody(shared_dir: Path) -> None:
    # was skipped as root; runs as nobody now, so it can fail
    site = shared_dir / "site.conf"
    site.write_text("server {}\n")
    site.chmod(0)
    line = _one_error_line(check_cli(str(site), as_nobody=True))
    assert f"{site}: cannot read (Permission denied" in line


def test_load_unreadable_directory_as_path(shared_dir: Path) -> None:
    (shared_dir / "sites").mkdir()
    (shared_dir / "sites" / "verse.conf").write_text(GZIP_SITE)
    (shared_dir / "sites").chmod(0o700)
    line = _one_error_line(check_cli(str(shared_dir / "sites"), as_nobody=True))
    assert "sites" in line and "Permission denied" in line


def test_load_glob_skips_hidden_and_sorts(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    for name in ("b.conf", "a.conf", ".hidden.conf"):
        (tmp_path / "conf.d" / name).write_text(f"# {name}\nserver {{ listen 80; }}\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    config = load_config([str(tmp_path / "nginx.conf")])
    assert [Path(f).name for f in config.files[1:]] == ["a.conf", "b.conf"]


def test_load_glob_matching_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    os.mkfifo(tmp_path / "conf.d" / "pipe.conf")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        load_config([str(tmp_path / "nginx.conf")])


def test_load_symlink_loop_in_an_include_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include loop/*.conf; }\n")
    with pytest.raises(ConfigLoadError, match="symbolic links") as caught:
        load_config([str(tmp_path / "nginx.conf")])
    assert "sudo" not in str(caught.value)  # not a permission problem: no such advice


def test_load_glob_matching_a_directory_fails_as_in_nginx(tmp_path: Path) -> None:
    # nginx -t: pread() ".../conf.d/sub" failed (21: Is a directory); it was skipped silently
    (tmp_path / "conf.d" / "sub").mkdir(parents=True)
    (tmp_path / "conf.d" / "a.conf").write_text("gzip off;\n")
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include conf.d/*; }\n")
    with pytest.raises(ConfigLoadError, match="sub: is a directory"):
        load_config([str(tmp_path / "nginx.conf")])


def test_load_deep_nesting_through_a_chain_of_includes_is_one_error(tmp_path: Path) -> None:
    # every file is shallow (30 levels); chained by includes at their deepest point they nest
    # 1,200 deep: refused before the splicing recursion gets anywhere near Python's limit
    files = 40
    for level in range(files):
        include = f"include f{level + 1}.conf;\n" if level + 1 < files else "gzip off;\n"
        (tmp_path / f"f{level}.conf").write_text("location /a {\n" * 30 + include + "}\n" * 30)
    site = tmp_path / "site.conf"
    site.write_text("server {\n    include f0.conf;\n}\n")
    with pytest.raises(ConfigParseError, match=f"more than {MAX_DEPTH} deep"):
        load_config([str(site)])
    assert "nest more than" in _one_error_line(check_cli(str(site)))


def test_check_at_the_depth_limit_runs_every_rule(tmp_path: Path) -> None:
    # the deepest config the loader accepts: every walk below it (selection, inheritance,
    # rules, report) must stay clear of Python's recursion limit
    from versectl.nginx.check import CheckOptions, run_check

    site = tmp_path / "site.conf"
    depth = MAX_DEPTH - 1
    site.write_text(
        "server {\n" + "location /a {\n" * depth + "proxy_pass http://127.0.0.1:8000;\n"
        "}\n" * depth + "}\n"
    )
    result = run_check(load_config([str(site)]), CheckOptions(offline=True, uris=("/a",)))
    assert result.locations and result.locations[0].line == depth + 1
    assert any(f.rule == "port-mismatch" for f in result.findings)
    json_run = check_cli("--format", "json", "--uri", "/a", str(site))
    assert json_run.returncode == 1, json_run.stderr
