"""`versectl fix --host NAME [--port N]`: the location of the server that host reaches, chosen as
check chooses it; other servers' blocks untouched; a shared snippet still needs --force."""

from __future__ import annotations

from pathlib import Path

from tests.fix.cli import run_fix
from tests.fix.configs import config_tree, shared_snippet_tree
from tests.support.exit_two import one_line_error
from versectl.fix.targets import find_targets
from versectl.nginx.check import DEFAULT_URIS
from versectl.nginx.load import load_config

BROKEN_API = "    location /api {\n        proxy_pass http://127.0.0.1:7776;\n    }\n"
TWO_SITES = (
    "server {\n    listen 127.0.0.1:8081;\n    server_name other.example;\n"
    f"{BROKEN_API}}}\n"
    "server {\n    listen 127.0.0.1:8081;\n    server_name chat.example *.chat.example;\n"
    f"{BROKEN_API}}}\n"
    "server {\n    listen 127.0.0.1:8082;\n    server_name chat.example;\n"
    f"{BROKEN_API}}}\n"
)
"""The first server (line 1) is the default of :8081; chat.example has a server on each port."""


def _rewritten_lines(site: Path, host: str | None, port: tuple[str | None, int] | None) -> set[int]:
    found = find_targets(
        load_config([str(site)]), str(site), DEFAULT_URIS, None, host=host, port=port
    )
    return {target.line for target in found.targets if target.kind == "rewrite"}


def test_fix_host_targets_only_the_server_that_host_reaches(tmp_path: Path) -> None:
    site = tmp_path / "sites"
    site.write_text(TWO_SITES)
    assert _rewritten_lines(site, "chat.example", (None, 8081)) == {11}
    assert _rewritten_lines(site, "chat.example", (None, 8082)) == {18}
    assert _rewritten_lines(site, "chat.example", None) == {11, 18}  # one server per port
    assert _rewritten_lines(site, "a.chat.example", (None, 8081)) == {11}
    # a name no server_name matches reaches the default (first) server of :8081
    assert _rewritten_lines(site, "unknown.example", (None, 8081)) == {4}


def test_fix_host_cli_changes_only_that_servers_block(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, TWO_SITES)
    several = run_fix(tree.site, "--nginx-conf", tree.main, cwd=tmp_path)
    assert "several servers" in one_line_error(several)
    done = run_fix(
        tree.site, "--nginx-conf", tree.main, "--host", "chat.example", "--port", "8082",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # a dry run with a change to show
    assert "line 18: location /api" in done.stdout, done.stdout
    assert "line 4:" not in done.stdout and "line 11:" not in done.stdout
    assert len([line for line in done.stdout.splitlines() if line.startswith("@@")]) == 1


def test_fix_host_bad_values_are_one_line_errors(tmp_path: Path) -> None:
    tree = config_tree(tmp_path, TWO_SITES)
    assert "not a host name" in one_line_error(
        run_fix(tree.site, "--host", "a b", "--nginx-conf", tree.main, cwd=tmp_path)
    )
    assert "no server listens" in one_line_error(
        run_fix(
            tree.site,
            "--host",
            "chat.example",
            "--port",
            "9999",
            "--nginx-conf",
            tree.main,
            cwd=tmp_path,
        )
    )


def test_fix_host_shared_snippet_still_needs_force(tmp_path: Path) -> None:
    tree, snippet = shared_snippet_tree(tmp_path, BROKEN_API, ("chat.example", "other.example"))
    refused = run_fix(snippet, "--nginx-conf", tree.main, "--host", "chat.example", cwd=tmp_path)
    message = one_line_error(refused)
    assert "shared" in message and "other.example" in message and "--force" in message
    forced = run_fix(
        snippet, "--nginx-conf", tree.main, "--host", "chat.example", "--force", cwd=tmp_path
    )
    assert forced.returncode == 1 and "shared" in forced.stdout + forced.stderr, forced.stderr
