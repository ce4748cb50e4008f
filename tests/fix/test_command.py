"""`versectl fix` end to end on files: the seed's broken site, dry run, write, idempotence, refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fix.cli import api_errors, run_fix
from tests.fix.configs import config_tree, seed_site, sha256
from tests.support.nginx import require_nginx
from versectl.fix.syntax import parse, walk


def _files(root: Path) -> list[str]:
    """Every file of the tree but those nginx -t itself writes (pid, error log)."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.name not in ("nginx.pid", "error.log")
    )


def _api_block_range(text: str) -> tuple[int, int]:
    for statement, _parents in walk(parse(text)):
        if statement.name == "location" and statement.args == ["/api"]:
            return statement.open_brace, statement.close_brace
    raise AssertionError("no location /api")


def test_command_dry_run_shows_the_diff_and_changes_nothing(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    before = {name: sha256(tree.root / name) for name in _files(tree.root)}
    done = run_fix(tree.site, "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"--- {tree.site}\n+++ {tree.site} (fixed)\n" in done.stdout
    assert "-        proxy_pass http://localhost:8000;" in done.stdout
    assert "+        proxy_pass http://localhost:7776;" in done.stdout
    assert "+        proxy_buffering off;" in done.stdout
    assert "Dry run" in done.stdout
    assert {name: sha256(tree.root / name) for name in _files(tree.root)} == before


def test_command_write_fixes_validates_and_is_idempotent(tmp_path: Path) -> None:
    binary = require_nginx()
    tree = config_tree(tmp_path, seed_site())
    original = tree.site.read_text()
    assert api_errors(tree.main, tree.site)  # the seed's config is broken (port 8000 at least)

    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "nginx -t passed" in done.stdout
    fixed = tree.site.read_text()
    start, end = _api_block_range(original)
    new_start, new_end = _api_block_range(fixed)
    assert fixed[:new_start] == original[:start]  # every byte before the block's `{`
    assert fixed[new_end:] == original[end:]  # and from its `}` on
    nginx_t = subprocess.run(
        [binary, "-t", "-c", str(tree.main)], capture_output=True, text=True, check=False
    )
    assert nginx_t.returncode == 0, nginx_t.stderr
    assert api_errors(tree.main, tree.site) == []
    assert "check nginx: 0 error(s)" in done.stdout
    # the backup would be loaded by `include sites-enabled/*`: hidden
    backups = [p for p in (tree.root / "sites-enabled").iterdir() if p.name != "verse"]
    assert [p.name[:16] for p in backups] == [".verse.versectl-"]
    assert backups[0].read_text() == original

    files_after_first = _files(tree.root)
    again = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Nothing to change" in again.stdout
    assert tree.site.read_text() == fixed
    assert _files(tree.root) == files_after_first  # no new backup, no temp file


def test_command_symlinked_site_is_written_through(tmp_path: Path) -> None:
    require_nginx()
    tree = config_tree(tmp_path, seed_site(), symlinked=True)
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert tree.site.is_symlink() and os.readlink(tree.site) == "../sites-available/verse"
    assert "proxy_buffering off;" in (tree.root / "sites-available" / "verse").read_text()
    available = sorted(p.name for p in (tree.root / "sites-available").iterdir())
    assert available[0] == "verse" and available[1].startswith("verse.versectl-")
    assert available[1].endswith(".bak") and len(available) == 2
    assert sorted(p.name for p in (tree.root / "sites-enabled").iterdir()) == ["verse"]


def test_command_keeps_the_users_auth_basic(tmp_path: Path) -> None:
    require_nginx()
    site = seed_site().replace(
        "        proxy_read_timeout 90;",
        '        # family only\n        auth_basic "Verse";\n        auth_basic_user_file htpasswd;\n'
        "        proxy_read_timeout 90;",
    )
    tree = config_tree(tmp_path, site)
    (tree.root / "htpasswd").write_text("me:$apr1$x$y\n")
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, "--no-backup", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fixed = tree.site.read_text()
    start, end = _api_block_range(fixed)
    block = fixed[start:end]
    assert (
        '        # family only\n        auth_basic "Verse";\n        auth_basic_user_file htpasswd;\n'
        in block
    )
    assert "proxy_connect_timeout 90;" in block  # the user's other timeouts stay too
    assert sorted(p.name for p in (tree.root / "sites-enabled").iterdir()) == ["verse"]


def test_command_failed_validation_keeps_the_original(tmp_path: Path) -> None:
    require_nginx()
    # nginx -t fails for a reason only nginx sees (a certificate file that is missing)
    broken = (
        "server {\n    listen 127.0.0.1:8443 ssl;\n    ssl_certificate /nonexistent/c.pem;\n"
        "    ssl_certificate_key /nonexistent/k.pem;\n}\n"
    )
    tree = config_tree(tmp_path, seed_site() + broken)
    before = {name: sha256(tree.root / name) for name in _files(tree.root)}
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2
    assert "nginx -t fails already without the fix" in done.stderr
    assert "/nonexistent/c.pem" in done.stderr
    assert "Traceback" not in done.stderr
    assert {
        name: sha256(tree.root / name) for name in _files(tree.root)
    } == before  # no temp, no backup


def test_command_include_with_a_harmful_value_names_the_file_to_change(tmp_path: Path) -> None:
    site = seed_site().replace(
        "        proxy_read_timeout 90;\n", "        include snippets/verse-api.conf;\n"
    )
    tree = config_tree(tmp_path, site)
    (tree.root / "snippets").mkdir()
    snippet = tree.root / "snippets" / "verse-api.conf"
    snippet.write_text("client_max_body_size 1m;\nproxy_buffering on;\n")
    before = {name: sha256(tree.root / name) for name in _files(tree.root)}
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert f"{snippet}:2 sets `proxy_buffering on;`" in done.stderr
    assert "change it to `proxy_buffering off;`" in done.stderr
    assert "Traceback" not in done.stderr
    assert {name: sha256(tree.root / name) for name in _files(tree.root)} == before


def test_command_include_setting_a_value_is_not_repeated(tmp_path: Path) -> None:
    require_nginx()
    site = seed_site().replace(
        "        proxy_http_version 1.1;\n", "        include snippets/verse-api.conf;\n"
    )
    tree = config_tree(tmp_path, site)
    (tree.root / "snippets").mkdir()
    (tree.root / "snippets" / "verse-api.conf").write_text(
        "proxy_http_version 1.1;\nproxy_buffering off;\n"
    )
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    fixed = tree.site.read_text()
    # nginx would refuse a second proxy_buffering in the block: only the port changes
    assert fixed == site.replace("localhost:8000", "localhost:7776")
    assert api_errors(tree.main, tree.site) == []


def test_command_inserts_a_block_when_none_serves_the_chat(tmp_path: Path) -> None:
    require_nginx()
    site = "server {\n    listen 8080;\n    root /srv/www;\n\n    location / {\n        try_files $uri /index.html;\n    }\n}\n"
    tree = config_tree(tmp_path, site)
    dry = run_fix(tree.site, "--nginx-conf", tree.main, "--backend-port", "9000", cwd=tmp_path)
    assert dry.returncode == 1, dry.stderr
    assert "+    location /api {" in dry.stdout
    done = run_fix(
        tree.site, "--write", "--nginx-conf", tree.main, "--backend-port", "9000", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert tree.site.read_text().startswith(site[: site.rindex("    }\n}")])
    assert api_errors(tree.main, tree.site, backend_port=9000) == []
    again = run_fix(
        tree.site, "--write", "--nginx-conf", tree.main, "--backend-port", "9000", cwd=tmp_path
    )
    assert again.returncode == 0 and "Nothing to change" in again.stdout


def test_command_several_apps_need_a_server_name(tmp_path: Path) -> None:
    site = (
        "server { listen 80; server_name a.example; location / { root /a; } }\n"
        "server { listen 80; server_name b.example; location / { proxy_pass http://127.0.0.1:3000; } }\n"
    )
    tree = config_tree(tmp_path, site)
    done = run_fix(tree.site, "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2
    assert (
        "--server-name" in done.stderr and "a.example" in done.stderr and "b.example" in done.stderr
    )
    named = run_fix(
        tree.site, "--nginx-conf", tree.main, "--server-name", "a.example", cwd=tmp_path
    )
    assert named.returncode == 1, named.stderr
    assert named.stdout.count("+    location /api {") == 1
    assert not any(
        line.startswith("+") and "b.example" in line for line in named.stdout.splitlines()
    )


def test_command_finds_the_file_through_the_main_config(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    done = run_fix("--nginx-conf", tree.main, "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["file"] == str(tree.site)
    assert document["changed"] is True and document["written"] is False
    (block,) = document["blocks"]
    assert block["action"] == "rewrite" and block["match"] == "/api"
    assert {c["source"] for c in block["replaced"]} == {"proxy_pass http://localhost:8000;"}
    assert block["added"] == ["proxy_buffering off;"]
    assert [c["source"] for c in block["kept"]] == ["proxy_read_timeout 90;"]
    assert document["diff"].startswith(f"--- {tree.site}")


def test_command_port_from_compose(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    compose = tmp_path / "compose.yml"
    compose.write_text('services:\n  backend:\n    ports:\n      - "127.0.0.1:7790:7776"\n')
    done = run_fix(tree.site, "--compose", compose, "--format", "json", cwd=tmp_path)
    document = json.loads(done.stdout)
    assert (document["backend_port"], document["backend_port_source"]) == (7790, "compose")
    assert "proxy_pass http://localhost:7790;" in document["diff"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}/missing.conf"], "no such file"),
        (["{tmp}"], "is a directory"),
        (["{tmp}/broken.conf"], "broken.conf:3: unexpected end of file"),
        (["{tmp}/site.conf", "--reload"], "--reload needs --write"),
        (["{tmp}/site.conf", "--nginx", "/nonexistent/nginx"], "no such executable"),
        (["{tmp}/site.conf", "--nginx-conf", "{tmp}/missing.conf"], "no such file"),
    ],
    ids=[
        "missing",
        "directory",
        "unparsable",
        "reload-without-write",
        "no-nginx-binary",
        "no-main",
    ],
)
def test_command_bad_input_exits_2_cleanly(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "broken.conf").write_text("server {\n    listen 80;\n")
    (tmp_path / "site.conf").write_text(seed_site())
    done = run_fix(*(arg.format(tmp=tmp_path) for arg in args), cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_command_read_only_file_is_refused_untouched(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, seed_site())
    tree.site.chmod(0o444)
    before = sha256(tree.site)
    assert (
        run_fix(tree.site, "--nginx-conf", tree.main, cwd=tmp_path).returncode == 1
    )  # a dry run only reads
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2
    assert "read-only" in done.stderr
    assert sha256(tree.site) == before
    assert sorted(p.name for p in (tree.root / "sites-enabled").iterdir()) == ["verse"]


@pytest.fixture
def immutable() -> Iterator[list[Path]]:
    """chattr +i paths (even root cannot change them), undone after the test."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    paths: list[Path] = []
    yield paths
    for path in reversed(paths):
        subprocess.run(["chattr", "-i", str(path)], check=False)


def _make_immutable(path: Path, paths: list[Path]) -> None:
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i not supported here: {done.stderr.strip()}")
    paths.append(path)


def test_command_unwritable_directory_is_refused(tmp_path: Path, immutable: list[Path]) -> None:
    tree = config_tree(tmp_path, seed_site())
    before = sha256(tree.site)
    _make_immutable(tree.site.parent, immutable)  # no new file can appear in sites-enabled
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert "nothing written" in done.stderr
    assert "Traceback" not in done.stderr
    assert sha256(tree.site) == before
    assert sorted(p.name for p in tree.site.parent.iterdir()) == ["verse"]


def test_command_immutable_file_is_refused(tmp_path: Path, immutable: list[Path]) -> None:
    tree = config_tree(tmp_path, seed_site())
    before = sha256(tree.site)
    _make_immutable(tree.site, immutable)
    done = run_fix(tree.site, "--write", "--nginx-conf", tree.main, cwd=tmp_path)
    assert done.returncode == 2, done.stdout
    assert "read-only" in done.stderr
    assert sha256(tree.site) == before


def test_command_fixes_a_main_config_holding_the_server(tmp_path: Path) -> None:
    binary = require_nginx()
    tree = config_tree(tmp_path, "")
    server = seed_site().split("server {", 2)[2]  # the app's server block, inline in nginx.conf
    tree.main.write_text(
        tree.main.read_text().replace("    include sites-enabled/*;\n", "server {" + server)
    )
    done = run_fix(tree.main, "--write", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{tree.main} is the main config" in done.stdout
    assert "proxy_buffering off;" in tree.main.read_text()
    nginx_t = subprocess.run(
        [binary, "-t", "-c", str(tree.main)], capture_output=True, text=True, check=False
    )
    assert nginx_t.returncode == 0, nginx_t.stderr
    assert run_fix(tree.main, cwd=tmp_path).returncode == 0


def _catch_all_in_a_snippet(tmp_path: Path, body: str) -> tuple[Path, Path]:
    site = "server {\n    listen 8080;\n    include snippets/app.conf;\n}\n"
    tree = config_tree(tmp_path, site)
    (tree.root / "snippets").mkdir()
    (tree.root / "snippets" / "app.conf").write_text(f"location / {{\n{body}}}\n")
    return tree.main, tree.site


def test_command_catch_all_in_a_snippet_is_copied_not_guessed(tmp_path: Path) -> None:
    main, site = _catch_all_in_a_snippet(
        tmp_path, "    proxy_pass http://app:3000;\n    proxy_set_header Host app.internal;\n"
    )
    done = run_fix(site, "--nginx-conf", main, "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    diff = json.loads(done.stdout)["diff"]
    assert "+    location /api {" in diff
    assert "+        proxy_pass http://app:3000;" in diff  # not 127.0.0.1:7776
    assert "+        proxy_set_header Host app.internal;" in diff
    assert "+        proxy_buffering off;" in diff


def test_command_catch_all_in_a_snippet_that_streams_is_left_alone(tmp_path: Path) -> None:
    main, site = _catch_all_in_a_snippet(
        tmp_path, "    proxy_pass http://127.0.0.1:7776;\n    proxy_buffering off;\n"
    )
    done = run_fix(site, "--nginx-conf", main, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Nothing to change" in done.stdout
