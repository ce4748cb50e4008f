"""The smallest edits that make a block stream: what changes, what is added, what stays."""

from __future__ import annotations

import pytest

from versectl.errors import FixError
from versectl.fix.edit import apply_edits
from versectl.fix.merge import IncludedStatement, MergeResult, merge
from versectl.fix.syntax import Statement, parse
from versectl.fix.template import load_template
from versectl.nginx.model import DEFAULTS

INHERITED = dict(DEFAULTS)


def _merge(
    body: str, *, port: int = 7776, upstreams=(), included=None, inherited=None
) -> tuple[MergeResult, str, str]:
    text = f"location /api {{\n{body}}}\n"
    (location,) = parse(text)
    assert isinstance(location, Statement)
    known = {**INHERITED, **(inherited or {})}
    result = merge(
        text, "site.conf", location, load_template(), port=port, upstreams=upstreams,
        include_reader=lambda _p: included, inherited=lambda name: tuple(known.get(name, ())),
        unit="    ",
    )  # fmt: skip
    return result, text, apply_edits(text, result.edits)


GOOD = """\
    proxy_pass http://127.0.0.1:7776;
    proxy_http_version 1.1;
    proxy_buffering off;
    proxy_read_timeout 3600s;
"""


def test_merge_adds_only_what_is_missing_and_keeps_the_rest_byte_for_byte() -> None:
    body = (
        "    proxy_pass http://localhost:8000;\n"
        "    # only the family\n"
        '    auth_basic "Verse";\n'
        "    auth_basic_user_file /etc/nginx/htpasswd;  # made with htpasswd\n"
        "    proxy_read_timeout 90;\n"
        "    proxy_set_header Host api.openai.com;   # the upstream wants its own name\n"
    )
    result, text, fixed = _merge(body)
    assert fixed == text.replace("localhost:8000", "localhost:7776").replace(
        "   # the upstream wants its own name\n",
        "   # the upstream wants its own name\n    proxy_buffering off;\n",
    )
    assert [c.source for c in result.replaced] == ["proxy_pass http://localhost:8000;"]
    assert result.added == ["proxy_buffering off;"]
    kept = {c.source for c in result.kept_changes}
    assert kept == {"proxy_read_timeout 90;", "proxy_set_header Host api.openai.com;"}


def test_merge_never_touches_bytes_inside_quoted_values() -> None:
    body = (
        "    add_header Content-Security-Policy \"default-src 'self';\n"
        "  script-src 'self'\";\n"
        "    set $x 'a\n}\nb';\n"
        "    proxy_pass http://127.0.0.1:1;\n"
        "    proxy_buffering on;   # a comment at the end\n"
    )
    _result, text, fixed = _merge(body)
    assert "\"default-src 'self';\n  script-src 'self'\";\n    set $x 'a\n}\nb';\n" in fixed
    assert "    proxy_buffering off;   # a comment at the end\n" in fixed
    assert fixed.replace("off;", "on;", 1).replace(":7776", ":1", 1) == text
    assert not _merge(fixed.split("{\n", 1)[1].rsplit("}", 1)[0])[0].edits


def test_merge_keeps_comments_above_and_inside_replaced_statements() -> None:
    body = "    # the old port\n    proxy_pass   # inline\n      http://localhost:8000;\n"
    _result, _text, fixed = _merge(body)
    assert "    # the old port\n    proxy_pass   # inline\n      http://localhost:7776;\n" in fixed


def test_merge_proxy_pass_port_follows_only_for_local_targets() -> None:
    assert "http://backend:8000/api/" in _merge("    proxy_pass http://backend:8000/api/;\n")[2]
    assert "http://[::1]:7776/x/" in _merge("    proxy_pass http://[::1]:8000/x/;\n")[2]
    result, _text, fixed = _merge("    proxy_pass https://api.openai.com;\n")
    assert "proxy_pass https://api.openai.com;" in fixed
    assert any("api.openai.com" in note for note in result.notes)


def test_merge_proxy_pass_to_upstream_is_left_alone_with_a_note() -> None:
    result, _text, fixed = _merge(
        "    proxy_pass http://verse_backend;\n", upstreams={"verse_backend"}
    )
    assert "proxy_pass http://verse_backend;" in fixed
    assert any("upstream verse_backend" in note for note in result.notes)


def test_merge_good_block_written_differently_is_already_good() -> None:
    body = GOOD.replace("3600s", "1h").replace("off;", "OFF;") + "    client_max_body_size 1m;\n"
    assert _merge(body)[0].already_good


def test_merge_inherited_good_values_are_not_repeated() -> None:
    inherited = {"proxy_buffering": ("off",), "proxy_http_version": ("1.1",)}
    result, text, fixed = _merge("    proxy_pass http://127.0.0.1:7776;\n", inherited=inherited)
    assert result.already_good and fixed == text


def test_merge_inherited_harmful_value_is_overridden_in_the_block() -> None:
    result, _text, fixed = _merge(GOOD.replace("    proxy_buffering off;\n", ""),
                                  inherited={"proxy_buffering": ("on",), "gzip": ("on",)})  # fmt: skip
    # gzip with buffering off flushes every read (measured): only buffering is overridden
    assert result.added == ["proxy_buffering off;"]
    assert fixed.endswith("    proxy_read_timeout 3600s;\n    proxy_buffering off;\n}\n")


def test_merge_a_cache_zone_is_turned_off() -> None:
    result, _text, fixed = _merge(GOOD + "    proxy_cache api_cache;\n")
    assert "proxy_cache off;" in fixed and [c.source for c in result.replaced] == [
        "proxy_cache api_cache;"
    ]


def test_merge_short_read_timeout_is_replaced_longer_kept() -> None:
    result, _text, fixed = _merge(GOOD.replace("3600s", "10s"))
    assert "proxy_read_timeout 3600s;" in fixed
    assert [c.source for c in result.replaced] == ["proxy_read_timeout 10s;"]
    assert _merge(GOOD.replace("3600s", "90"))[0].already_good


def test_merge_websocket_connection_header_is_kept() -> None:
    body = (
        GOOD
        + '    proxy_set_header Connection "upgrade";\n    proxy_set_header Upgrade $http_upgrade;\n'
    )
    assert _merge(body)[0].already_good


def test_merge_accel_buffering_request_header_is_kept_with_a_note() -> None:
    result, _text, _fixed = _merge(GOOD + "    proxy_set_header X-Accel-Buffering no;\n")
    assert result.already_good
    assert any("response" in note for note in result.notes)


def test_merge_one_line_block_gets_the_additions_on_its_line() -> None:
    text = "location /api { proxy_pass http://h:1; }\n"
    (location,) = parse(text)
    assert isinstance(location, Statement)
    result = merge(
        text, "s.conf", location, load_template(), port=7776, upstreams=(),
        include_reader=lambda _p: [], inherited=lambda name: DEFAULTS.get(name, ()), unit="    ",
    )  # fmt: skip
    assert apply_edits(text, result.edits) == (
        "location /api { proxy_pass http://h:1; proxy_buffering off; }\n"
    )


def test_merge_try_files_and_return_make_way_for_proxy_pass() -> None:
    result, _text, fixed = _merge("    try_files $uri =404;\n    return 503;\n")
    assert {c.source for c in result.dropped} == {"try_files $uri =404;", "return 503;"}
    assert "try_files" not in fixed and "proxy_pass http://127.0.0.1:7776;" in fixed


def test_merge_include_values_count_and_are_not_repeated() -> None:
    included = [
        IncludedStatement("/etc/nginx/proxy.conf", 3, "proxy_http_version", ("1.1",)),
        IncludedStatement("/etc/nginx/proxy.conf", 4, "proxy_buffering", ("off",)),
    ]
    result, text, fixed = _merge(
        "    proxy_pass http://127.0.0.1:7776;\n    include proxy.conf;\n", included=included
    )
    assert result.already_good and fixed == text


def test_merge_include_with_a_harmful_value_says_what_to_change_where() -> None:
    included = [IncludedStatement("/etc/nginx/proxy.conf", 4, "proxy_buffering", ("on",))]
    result, _text, _fixed = _merge(GOOD.replace("    proxy_buffering off;\n", "") +
                                   "    include proxy.conf;\n", included=included)  # fmt: skip
    (manual,) = result.manual
    assert manual.startswith("/etc/nginx/proxy.conf:4 sets `proxy_buffering on;`")
    assert "`proxy_buffering off;`" in manual
    assert not result.already_good


def test_merge_include_setting_proxy_pass_is_not_doubled() -> None:
    included = [IncludedStatement("/x/p.conf", 1, "proxy_pass", ("http://127.0.0.1:1",))]
    _result, _text, fixed = _merge("    include p.conf;\n", included=included)
    assert "proxy_pass" not in fixed.replace("include p.conf", "")


@pytest.mark.parametrize("handler", ["fastcgi_pass", "uwsgi_pass", "grpc_pass"])
def test_merge_refuses_other_handlers(handler: str) -> None:
    with pytest.raises(FixError, match=handler):
        _merge(f"    {handler} 127.0.0.1:9000;\n")
