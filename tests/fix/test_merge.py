"""What the new block keeps from the user's block, drops, and replaces."""

from __future__ import annotations

import pytest

from versectl.errors import FixError
from versectl.fix.merge import MergeResult, merge
from versectl.fix.syntax import Statement, parse
from versectl.fix.template import load_template


def _merge(
    body: str, *, port: int = 7776, upstreams=(), include_keys=lambda _p: None
) -> MergeResult:
    text = f"location /api {{\n{body}}}\n"
    (location,) = parse(text)
    assert isinstance(location, Statement)
    return merge(
        text, location, load_template(), port=port, upstreams=upstreams, include_keys=include_keys
    )


GOOD = """\
    proxy_pass http://127.0.0.1:7776;
    proxy_http_version 1.1;
    proxy_set_header Connection '';
    proxy_buffering off;
    proxy_cache off;
    gzip off;
    proxy_read_timeout 3600s;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
"""


def test_merge_keeps_auth_and_body_size_with_their_comments() -> None:
    result = _merge(
        "    proxy_pass http://localhost:8000;\n"
        "    # only the family\n"
        '    auth_basic "Verse";\n'
        "    auth_basic_user_file /etc/nginx/htpasswd;  # made with htpasswd\n"
        "\n"
        "    # a stale note about the old port\n"
        "    proxy_read_timeout 90;\n"
        "    client_max_body_size 10m;\n"
        "    allow 192.168.0.0/16;\n"
        "    deny all;\n"
    )
    kept = [line for chunk in result.kept for line in chunk.lines]
    assert kept == [
        "# only the family",
        'auth_basic "Verse";',
        "auth_basic_user_file /etc/nginx/htpasswd;  # made with htpasswd",
        "client_max_body_size 10m;",
        "allow 192.168.0.0/16;",
        "deny all;",
    ]
    assert [c.source for c in result.replaced] == [
        "proxy_pass http://localhost:8000;",
        "proxy_read_timeout 90;",
    ]
    assert not result.already_good


def test_merge_proxy_pass_keeps_host_and_uri_part_sets_port() -> None:
    result = _merge("    proxy_pass http://backend:8000/api/;\n")
    assert result.args["proxy_pass"] == ["http://backend:7776/api/"]


def test_merge_proxy_pass_to_upstream_is_left_alone_with_a_note() -> None:
    result = _merge("    proxy_pass http://verse_backend;\n", upstreams={"verse_backend"})
    assert result.args["proxy_pass"] == ["http://verse_backend"]
    assert any("upstream verse_backend" in note for note in result.notes)


def test_merge_drops_the_accel_buffering_request_header_as_folklore() -> None:
    result = _merge(GOOD + "    proxy_set_header X-Accel-Buffering no;\n")
    assert [c.source for c in result.dropped] == ["proxy_set_header X-Accel-Buffering no;"]
    assert "response" in result.dropped[0].reason
    assert not result.already_good


def test_merge_equivalent_block_written_differently_is_already_good() -> None:
    body = GOOD.replace("3600s", "1h").replace("off;", "OFF;").replace("Host $host", "host $host")
    result = _merge(body)
    assert result.already_good
    assert result.replaced == []


def test_merge_good_block_with_extras_is_already_good() -> None:
    assert _merge(GOOD + "    client_max_body_size 1m;\n").already_good


def test_merge_longer_read_timeout_is_kept() -> None:
    result = _merge("    proxy_read_timeout 2h;\n")
    assert result.args["proxy_read_timeout"] == ["2h"]
    assert _merge(GOOD.replace("3600s", "7200")).already_good


def test_merge_duplicate_template_directive_is_not_good() -> None:
    assert not _merge(GOOD + "    proxy_buffering off;\n").already_good


def test_merge_websocket_connection_header_is_kept() -> None:
    result = _merge(
        GOOD.replace("proxy_set_header Connection '';", 'proxy_set_header Connection "upgrade";')
        + "    proxy_set_header Upgrade $http_upgrade;\n"
    )
    assert result.args["proxy_set_header connection"] == ["Connection", "upgrade"]
    assert result.already_good


def test_merge_nested_blocks_are_kept_verbatim() -> None:
    nested = "    location /api/admin {\n        deny all;\n    }\n"
    result = _merge("    proxy_pass http://x:1;\n" + nested)
    assert result.kept[-1].lines == ["location /api/admin {", "    deny all;", "}"]


def test_merge_try_files_and_return_are_dropped() -> None:
    result = _merge("    try_files $uri =404;\n    return 503;\n")
    assert {c.source for c in result.dropped} == {"try_files $uri =404;", "return 503;"}


def test_merge_include_of_only_template_directives_is_dropped() -> None:
    keys = {"proxy_set_header host", "proxy_set_header x-real-ip", "proxy_set_header x-forwarded-for",
            "proxy_set_header x-forwarded-proto"}  # fmt: skip
    result = _merge("    include proxy_params;\n", include_keys=lambda _p: keys)
    assert [c.source for c in result.dropped] == ["include proxy_params;"]


def test_merge_include_with_other_directives_is_kept_with_a_note() -> None:
    result = _merge(
        "    include extra.conf;\n", include_keys=lambda _p: {"proxy_read_timeout", "auth_basic"}
    )
    assert [c.source for c in result.kept_changes] == ["include extra.conf;"]
    assert any("proxy_read_timeout" in note for note in result.notes)


@pytest.mark.parametrize("handler", ["fastcgi_pass", "uwsgi_pass", "grpc_pass"])
def test_merge_refuses_other_handlers(handler: str) -> None:
    with pytest.raises(FixError, match=handler):
        _merge(f"    {handler} 127.0.0.1:9000;\n")


def test_merge_reports_what_the_block_adds() -> None:
    result = _merge("    proxy_pass http://localhost:8000;\n    proxy_http_version 1.1;\n")
    assert "proxy_buffering off;" in result.added
    assert "proxy_http_version 1.1;" not in result.added
    assert [c.source for c in result.same] == ["proxy_http_version 1.1;"]
