"""Loading configs: includes and globs spliced in place with their own positions, `nginx -T`
dumps parsed from the text alone, and every kind of bad input as one clear error."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from versectl.errors import ConfigLoadError, ConfigParseError
from versectl.nginx.directive import Directive
from versectl.nginx.load import load_config, load_replaced
from versectl.nginx.sources import MAX_CONFIG_BYTES, split_dump


def _walk(block: tuple[Directive, ...]) -> list[Directive]:
    found = []
    for stmt in block:
        found.append(stmt)
        found += _walk(stmt.block or ())
    return found


def test_load_includes_glob_in_place_keeping_positions(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n    gzip on;\n    include conf.d/*.conf;\n    include empty/*.conf;\n}\n"
    )
    (tmp_path / "conf.d" / "b.conf").write_text("server {\n    listen 81;\n}\n")
    (tmp_path / "conf.d" / "a.conf").write_text("\n\nserver { listen 80; }\n")
    config = load_config([str(tmp_path / "nginx.conf")])
    http = next(d for d in config.root if d.name == "http")
    assert [d.name for d in http.block or ()] == ["gzip", "server", "server"]
    first, second = list(http.children("server"))
    assert (Path(first.file).name, first.line) == ("a.conf", 3)
    assert (Path(second.file).name, second.line) == ("b.conf", 1)
    assert next(second.children("listen")).line == 2
    assert config.files[0] == str(tmp_path / "nginx.conf")
    assert [Path(f).name for f in config.files[1:]] == ["a.conf", "b.conf"]
    assert not any(d.name == "include" for d in _walk(config.root))
    assert not config.site_level


def test_load_same_snippet_in_two_locations(tmp_path: Path) -> None:
    (tmp_path / "params").write_text("proxy_set_header Host $host;\n")
    (tmp_path / "nginx.conf").write_text(
        "http { server { location /a { include params; } location /b { include params; } } }\n"
    )
    config = load_config([str(tmp_path / "nginx.conf")])
    headers = [d for d in _walk(config.root) if d.name == "proxy_set_header"]
    assert len(headers) == 2
    assert all(h.file.endswith("params") and h.line == 1 for h in headers)


def test_load_site_file_is_http_context(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_text("proxy_buffering off;\nserver { location /api { proxy_pass http://x; } }\n")
    config = load_config([str(site)])
    assert config.site_level
    assert [d.name for d in config.root] == ["proxy_buffering", "server"]


def test_load_site_file_missing_relative_include_is_recorded(tmp_path: Path) -> None:
    site = tmp_path / "verse"
    site.write_text("server { include snippets/does-not-exist.conf; }\n")
    config = load_config([str(site)])
    (missing,) = config.missing
    assert (missing.file, missing.line, missing.pattern) == (
        str(site),
        1,
        "snippets/does-not-exist.conf",
    )
    assert missing.looked_in[0] == str(tmp_path) and "/etc/nginx" in missing.looked_in
    assert any("snippets/does-not-exist.conf" in w for w in config.warnings)


def test_load_main_file_missing_includes_are_recorded_not_fatal(tmp_path: Path) -> None:
    main = tmp_path / "nginx.conf"
    gone = tmp_path / "not-here" / "options-ssl-nginx.conf"
    main.write_text(
        f"events {{}}\nhttp {{\n  include mime.types;\n  server {{\n    include {gone};\n"
        "    listen 80;\n  }\n}\n"
    )
    config = load_config([str(main)])
    assert [(m.line, m.pattern, m.looked_in) for m in config.missing] == [
        (3, "mime.types", (str(tmp_path),)),
        (5, str(gone), ()),
    ]
    assert config.missing[1].reason == f"include {gone}: no such file"
    # the rest is loaded: the server and its listen are there
    (server,) = [d for d in _walk(config.root) if d.name == "server"]
    assert [d.name for d in server.block or ()] == ["listen"]


def test_load_missing_include_in_a_file_included_twice_is_one_entry(tmp_path: Path) -> None:
    (tmp_path / "common.conf").write_text("include /nonexistent-versectl/ssl.conf;\n")
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n server { include common.conf; }\n server { include common.conf; }\n}\n"
    )
    config = load_config([str(tmp_path / "nginx.conf")])
    assert [(Path(m.file).name, m.line) for m in config.missing] == [("common.conf", 1)]


def test_load_missing_include_in_an_nginx_T_dump_is_a_parse_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # nginx -T fails on a missing include, so a dump without the file is cut or edited
    dump = (
        "# configuration file /srv/x/nginx.conf:\nevents {}\nhttp {\n"
        "    include /srv/x/ssl.conf;\n}\n"
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(dump.encode())))
    with pytest.raises(ConfigParseError, match="not in the nginx -T dump") as caught:
        load_config(["-"])
    assert caught.value.line == 3  # the marker line is not part of the file


def test_load_include_loop_is_a_parse_error(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include a.conf; }\n")
    (tmp_path / "a.conf").write_text("server { listen 80; }\ninclude b.conf;\n")
    (tmp_path / "b.conf").write_text("\ninclude a.conf;\n")
    with pytest.raises(ConfigParseError, match="include loop") as caught:
        load_config([str(tmp_path / "nginx.conf")])
    assert caught.value.file == str(tmp_path / "b.conf") and caught.value.line == 2


def test_load_unbalanced_braces_names_file_and_line(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n    location /api {\n        proxy_pass http://x;\n}\n")
    with pytest.raises(ConfigParseError, match="unexpected end of file") as caught:
        load_config([str(site)])
    assert caught.value.file == str(site) and caught.value.line is not None


def test_load_stray_closing_brace(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { }\n}\n")
    with pytest.raises(ConfigParseError, match='unexpected "}"') as caught:
        load_config([str(site)])
    assert caught.value.line == 2


def test_load_bad_argument_uses_crossplane_message(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n  location /api {\n    proxy_buffering maybe;\n  }\n}\n")
    with pytest.raises(ConfigParseError, match='must be "on" or "off"') as caught:
        load_config([str(site)])
    assert caught.value.line == 3


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigLoadError, match="no such file"):
        load_config([str(tmp_path / "nope.conf")])


def test_load_directory_without_configs(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("not a config")
    with pytest.raises(ConfigLoadError, match=r"no nginx.conf and no \*.conf"):
        load_config([str(tmp_path)])


def test_load_directory_prefers_its_nginx_conf(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { include fastcgi.conf; }\n")
    (tmp_path / "fastcgi.conf").write_text("fastcgi_param A b;\n")
    config = load_config([str(tmp_path)])
    assert config.main_file == str(tmp_path / "nginx.conf")


def test_load_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "site.conf"
    os.mkfifo(fifo)
    with pytest.raises(ConfigLoadError, match="not a regular file"):
        load_config([str(fifo)])


def test_load_binary_garbage(tmp_path: Path) -> None:
    blob = tmp_path / "site.conf"
    blob.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ConfigLoadError, match="binary"):
        load_config([str(blob)])


def test_load_huge_file_refused_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.conf"
    with huge.open("wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(ConfigLoadError, match="too large"):
        load_config([str(huge)])
    assert MAX_CONFIG_BYTES < 50 * 1024 * 1024


DUMP = """# configuration file /etc/nginx/nginx.conf:
events {}
http {
    include /etc/nginx/sites-enabled/*;
}

# configuration file /etc/nginx/sites-enabled/verse:
server {
    listen 80;
    location /api { proxy_pass http://127.0.0.1:7776; }
}

"""


def test_split_dump_keeps_each_file_verbatim() -> None:
    files = split_dump(DUMP)
    assert list(files) == ["/etc/nginx/nginx.conf", "/etc/nginx/sites-enabled/verse"]
    assert files["/etc/nginx/sites-enabled/verse"].startswith("server {\n")


def test_load_dump_from_stdin_never_reads_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(DUMP.replace("/etc/nginx", "/nonexistent/x").encode()))
    monkeypatch.setattr(sys, "stdin", fake)
    config = load_config(["-"])
    assert config.origin == "stdin"
    assert config.files == ("/nonexistent/x/nginx.conf", "/nonexistent/x/sites-enabled/verse")
    location = next(d for d in _walk(config.root) if d.name == "location")
    assert (location.file, location.line) == ("/nonexistent/x/sites-enabled/verse", 3)


def test_load_stdin_without_markers_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"server {}\n")))
    with pytest.raises(ConfigLoadError, match="nginx -T"):
        load_config(["-"])


def test_load_replaced_reads_the_given_text_for_that_file_under_every_name(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { listen 80; location /a { proxy_pass http://x; } }\n")
    (tmp_path / "link.conf").symlink_to(site)
    main = tmp_path / "nginx.conf"
    main.write_text("events {}\nhttp { include site.conf; include link.conf; }\n")
    config = load_config([str(main)])
    after = load_replaced(config, str(site), "server { listen 81; }\n")
    (http,) = [d for d in after.root if d.name == "http"]
    assert [next(s.children("listen")).args for s in http.children("server")] == [
        ("81",),
        ("81",),
    ]
    assert "listen 80" in site.read_text()  # nothing written
