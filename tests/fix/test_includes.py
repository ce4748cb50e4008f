"""include resolution as nginx does it: conf-prefix relative, sorted globs, no dotfiles, loops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from versectl.errors import ConfigLoadError, FixError
from versectl.fix.includes import (
    expand,
    glob_would_match,
    include_reader,
    includes,
    includes_file,
    read_config_text,
)
from versectl.nginx.sources import include_glob


def test_includes_expand_sorts_and_skips_dotfiles(tmp_path: Path) -> None:
    for name in ("b.conf", "a.conf", ".hidden.conf", "c.conf.bak"):
        (tmp_path / "conf.d").mkdir(exist_ok=True)
        (tmp_path / "conf.d" / name).write_text("")
    assert [p.name for p in expand("conf.d/*.conf", tmp_path)] == ["a.conf", "b.conf"]
    assert [p.name for p in expand("conf.d/*", tmp_path)] == ["a.conf", "b.conf", "c.conf.bak"]


def test_includes_plain_name_is_returned_even_when_missing(tmp_path: Path) -> None:
    assert expand("/nowhere/x.conf", tmp_path) == [Path("/nowhere/x.conf")]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("sites-enabled/*", "/etc/nginx/sites-enabled/verse.versectl-1.bak", True),
        ("sites-enabled/*", "/etc/nginx/sites-enabled/.verse.versectl-1.bak", False),
        ("conf.d/*.conf", "/etc/nginx/conf.d/verse.conf.versectl-1.bak", False),
        ("/etc/nginx/sites-*/*", "/etc/nginx/sites-available/x", True),
        ("*", "/etc/nginx/sites-enabled/x", False),
        ("sites-enabled/verse", "/etc/nginx/sites-enabled/verse", True),
    ],
)
def test_includes_glob_would_match(pattern: str, path: str, expected: bool) -> None:
    assert glob_would_match(pattern, Path("/etc/nginx"), Path(path)) is expected


def test_includes_walks_the_tree_and_finds_a_file(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "verse").write_text("server { include snippets/x.conf; }\n")
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "x.conf").write_text("listen 80;\n")
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp { include sites/*; }\n")
    patterns = [include.pattern for include in includes(main)]
    assert patterns == ["sites/*", "snippets/x.conf"]
    assert includes_file(main, tmp_path / "snippets" / "x.conf")
    assert not includes_file(main, tmp_path / "other.conf")


def test_includes_loop_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("include b.conf;\n")
    (tmp_path / "b.conf").write_text("include a.conf;\n")
    with pytest.raises(FixError, match="include loop"):
        list(includes(tmp_path / "a.conf"))


def test_includes_keys_reader(tmp_path: Path) -> None:
    (tmp_path / "proxy_params").write_text(
        "proxy_set_header Host $host;\nproxy_set_header X-Real-IP $remote_addr;\n"
    )
    read = include_reader(tmp_path)
    found = read("proxy_params")
    assert found is not None
    assert [(i.line, i.name, i.args) for i in found] == [
        (1, "proxy_set_header", ("Host", "$host")),
        (2, "proxy_set_header", ("X-Real-IP", "$remote_addr")),
    ]
    assert all(i.file == str(tmp_path / "proxy_params") for i in found)
    with pytest.raises(ConfigLoadError, match="no such file"):
        read("missing")


def test_includes_read_config_text_round_trips_any_byte(tmp_path: Path) -> None:
    data = b"# caf\xe9 in latin-1\nlisten 80;\n"
    (tmp_path / "x.conf").write_bytes(data)
    assert read_config_text(tmp_path / "x.conf").encode("utf-8", "surrogateescape") == data
    with pytest.raises(ConfigLoadError, match="directory"):
        read_config_text(tmp_path)


def test_includes_special_files_are_refused_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.conf")
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        read_config_text(tmp_path / "fifo.conf")
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        read_config_text(Path("/dev/zero"))
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        include_reader(tmp_path)("*.conf")
    (tmp_path / "bin.conf").write_bytes(b"listen 80;\0\0\0")
    with pytest.raises(ConfigLoadError, match="binary"):
        read_config_text(tmp_path / "bin.conf")


def test_includes_a_fifo_in_a_glob_of_the_tree_is_refused(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    os.mkfifo(tmp_path / "conf.d" / "x.conf")
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp { include conf.d/*.conf; }\n")
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        list(includes(main))


def test_includes_expand_is_checks_glob(tmp_path: Path) -> None:
    conf = tmp_path / "conf.d"
    conf.mkdir()
    for name in ("b.conf", "a.conf", ".hidden.conf", "c.txt"):
        (conf / name).write_text("")
    (conf / "sub").mkdir()
    (conf / "sub" / "d.conf").write_text("")
    for pattern in ("conf.d/*.conf", "conf.d/.*.conf", "conf.d/*/*.conf", "conf.d/?.conf"):
        expected = include_glob(str(tmp_path / pattern))
        assert [str(p) for p in expand(pattern, tmp_path)] == expected
    assert [p.name for p in expand("conf.d/*.conf", tmp_path)] == ["a.conf", "b.conf"]
