"""The shipped templates: valid nginx, every directive explained, the site embeds the block."""

from __future__ import annotations

import subprocess

import pytest

import nginx_templates
from tests.support.nginx import require_nginx
from versectl.fix.locate import body_range, find_statement
from versectl.fix.syntax import parse, statements
from versectl.fix.template import load_template, render_body

EVIDENCE_BACKED = {
    "proxy_pass",
    "proxy_http_version",
    "proxy_buffering",
    "proxy_cache",
    "gzip",
    "proxy_read_timeout",
    "proxy_set_header",
}


def test_nginx_templates_loader_reads_package_data() -> None:
    assert "location /api" in nginx_templates.api_location()
    assert "server {" in nginx_templates.site()


def test_nginx_templates_block_holds_the_evidence_backed_directives() -> None:
    block = load_template()
    names = {s.name for s in block.statements}
    assert names == EVIDENCE_BACKED
    headers = {
        s.args[0].lower(): s.args[1:] for s in block.statements if s.name == "proxy_set_header"
    }
    assert headers == {
        "connection": [""],
        "host": ["$host"],
        "x-real-ip": ["$remote_addr"],
        "x-forwarded-for": ["$proxy_add_x_forwarded_for"],
        "x-forwarded-proto": ["$scheme"],
    }
    settings = {s.name: s.args for s in block.statements if s.name != "proxy_set_header"}
    assert settings["proxy_buffering"] == ["off"]
    assert settings["proxy_http_version"] == ["1.1"]
    assert settings["gzip"] == ["off"]
    assert settings["proxy_read_timeout"] == ["3600s"]
    assert settings["proxy_pass"] == ["http://127.0.0.1:7776"]


def test_nginx_templates_folklore_is_only_mentioned_in_comments() -> None:
    block = load_template()
    assert not any("x-accel-buffering" in " ".join(s.args).lower() for s in block.statements)
    assert not any(s.name == "proxy_request_buffering" for s in block.statements)
    assert "X-Accel-Buffering no" in nginx_templates.api_location()  # explained as left out


def test_nginx_templates_every_directive_is_explained_by_a_comment_above_it() -> None:
    # Walking up from each statement over the statements of its group, a comment comes before
    # a blank line or the `location` line: no directive without its why.
    lines = nginx_templates.api_location().splitlines()
    for statement in load_template().statements:
        index = statement.line - 2
        while lines[index].strip() and not lines[index].strip().startswith("#"):
            assert not lines[index].lstrip().startswith("location"), statement.line
            index -= 1
        assert lines[index].strip().startswith("#"), f"line {statement.line} is not explained"


def test_nginx_templates_site_embeds_the_block_verbatim() -> None:
    site = nginx_templates.site()
    nodes = parse(site)
    (server,) = statements(nodes)
    location = next(s for s in statements(server.block or []) if s.args == ["/api"])
    found = find_statement(nodes, "location", location.line)
    assert found is not None
    start, end = body_range(site, found)
    rendered = render_body(load_template(), args={}, indent="    ", unit="    ", newline="\n")
    assert site[start:end] == rendered


@pytest.mark.parametrize("name", [nginx_templates.API_LOCATION, nginx_templates.SITE])
def test_nginx_templates_pass_nginx_t(name: str, tmp_path) -> None:
    binary = require_nginx()
    text = nginx_templates.read_template(name)
    if name == nginx_templates.API_LOCATION:
        text = f"server {{ listen 127.0.0.1:8080; {text} }}"
    site = tmp_path / "site.conf"
    site.write_text(text)
    main = tmp_path / "nginx.conf"
    temps = "".join(
        f"{n}_temp_path {tmp_path}/{n}; "
        for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ {temps} access_log off; include {site}; }}\n"
    )
    result = subprocess.run(
        [binary, "-t", "-c", str(main)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["nginx-verse.conf", "nginx-verse-replicas.conf"])
def test_nginx_templates_sites_have_no_error_findings(name: str) -> None:
    """The shipped sites are what `check nginx` calls clean (the replicas' second port too)."""
    from importlib.resources import files

    from versectl.nginx.check import CheckOptions, run_check
    from versectl.nginx.finding import Severity
    from versectl.nginx.load import load_config

    site = files(nginx_templates) / name
    result = run_check(load_config([str(site)]), CheckOptions(backend_port=7776, offline=True))
    errors = [f for f in result.findings if f.severity == Severity.error]
    assert errors == [], errors
