"""Planning a file's fix: only the block's bytes change, the result is a fixed point."""

from __future__ import annotations

import pytest

from tests.fix.configs import seed_site
from versectl.errors import FixError
from versectl.fix.plan import FilePlan, FixTarget, common_prefix, plan_file
from versectl.fix.syntax import Statement, parse, walk

URIS = ("/api/chat/message", "/api/standalone-chat")


def _location_line(text: str, arg: str = "/api") -> int:
    for statement, _parents in walk(parse(text)):
        if statement.name == "location" and statement.args[-1] == arg:
            return statement.line
    raise AssertionError(arg)


def _server_line(text: str, index: int = 0) -> int:
    return [s.line for s, _p in walk(parse(text)) if s.name == "server"][index]


def _rewrite(text: str, **kwargs) -> FilePlan:
    return plan_file(
        "site.conf", text, [FixTarget("rewrite", _location_line(text), URIS)], port=7776, **kwargs
    )


def _block(text: str) -> Statement:
    line = _location_line(text)
    return next(s for s, _p in walk(parse(text)) if s.name == "location" and s.line == line)


def test_plan_seed_changes_only_the_block_body() -> None:
    text = seed_site()
    plan = _rewrite(text)
    before, after = _block(text), _block(plan.candidate)
    assert plan.changed
    assert plan.candidate[: after.open_brace] == text[: before.open_brace]
    assert plan.candidate[after.close_brace :] == text[before.close_brace :]
    assert "proxy_pass http://localhost:7776;" in plan.candidate
    assert "proxy_read_timeout 90;" in plan.candidate  # longer than the heartbeat: kept
    # the smallest change: the port, and one line added after the block's last statement
    assert plan.candidate == text.replace("localhost:8000", "localhost:7776").replace(
        "proxy_send_timeout 90;\n", "proxy_send_timeout 90;\n        proxy_buffering off;\n"
    )


def test_plan_is_a_fixed_point() -> None:
    first = _rewrite(seed_site())
    second = _rewrite(first.candidate)
    assert not second.changed
    assert [c.action for c in second.changes] == ["unchanged"]


def test_plan_rendering_is_stable_even_when_forced() -> None:
    # Rendering the rendered block again gives the same bytes (no growing comments or markers).
    text = seed_site().replace("client_max_body_size", "x") + ""
    first = _rewrite(
        text.replace("proxy_send_timeout 90;", "proxy_send_timeout 90;\n        auth_basic off;")
    )
    forced = first.candidate.replace("proxy_buffering off;", "proxy_buffering on;")
    again = _rewrite(forced)
    assert again.candidate == first.candidate


def test_plan_uses_the_blocks_indentation_tabs() -> None:
    text = "server {\n\tlisten 80;\n\tlocation /api {\n\t\tproxy_pass http://h:1;\n\t}\n}\n"
    plan = _rewrite(text)
    body_lines = [line for line in plan.candidate.splitlines()[3:-2] if line]
    assert all(line.startswith("\t\t") and not line.startswith("\t\t ") for line in body_lines)
    assert plan.candidate.endswith("\t}\n}\n")


def test_plan_keeps_crlf_line_ends() -> None:
    text = "server {\r\n  location /api {\r\n    proxy_pass http://h:1;\r\n  }\r\n}\r\n"
    plan = _rewrite(text)
    assert plan.candidate.count("\n") == plan.candidate.count("\r\n")
    assert "\r\n    proxy_buffering off;\r\n" in plan.candidate


def test_plan_one_line_block_stays_on_its_line() -> None:
    text = "server { listen 80; location /api { proxy_pass http://h:1; } }\n"
    plan = _rewrite(text)
    assert plan.candidate.startswith("server { listen 80; location /api { proxy_pass http://h:1; ")
    assert parse(plan.candidate)
    assert not _rewrite(plan.candidate).changed


def test_plan_insert_after_the_last_location() -> None:
    text = (
        seed_site().replace("    # API -> FastAPI backend\n", "").split("    location /api {")[0]
        + "}\n"
    )
    server = _server_line(text, 1)
    plan = plan_file("site.conf", text, [FixTarget("insert", server, URIS)], port=7776)
    assert plan.changed
    new = plan.candidate
    (change,) = plan.changes
    (edit,) = change.edits
    assert edit.start == edit.end  # a pure insertion
    assert text[: edit.start].endswith(
        'expires 30d;\n        add_header Cache-Control "public, immutable";\n    }'
    )
    assert "\n\n    location /api {\n        # The backend" in new
    assert "proxy_pass http://127.0.0.1:7776;" in new
    assert new.endswith("    }\n\n}\n")  # the blank line before the server's `}` stays
    line = _location_line(new)
    assert not plan_file("site.conf", new, [FixTarget("rewrite", line, URIS)], port=7776).changed


@pytest.mark.parametrize(
    "text",
    ["server {\n    listen 80;\n}\n", "server { listen 80; }\n"],
    ids=["own-lines", "one-line"],
)
def test_plan_insert_into_server_without_locations(text: str) -> None:
    plan = plan_file("s.conf", text, [FixTarget("insert", 1, URIS)], port=9000)
    assert "proxy_pass http://127.0.0.1:9000;" in plan.candidate
    assert plan.candidate.startswith(text[: text.index("listen 80;") + len("listen 80;")])
    assert _location_line(plan.candidate) > 1


def test_plan_insert_uses_prefix_priority_when_a_regex_would_win() -> None:
    text = "server {\n    location ~ ^/api/chat { return 404; }\n}\n"
    plan = plan_file("s.conf", text, [FixTarget("insert", 1, URIS)], port=7776)
    assert "location ^~ /api {" in plan.candidate


def test_plan_insert_skips_a_redirect_server() -> None:
    text = "server {\n    return 301 https://x$request_uri;\n}\n"
    plan = plan_file("s.conf", text, [FixTarget("insert", 1, URIS)], port=7776)
    assert not plan.changed
    assert [c.action for c in plan.changes] == ["skipped"]


def test_plan_two_blocks_in_one_file() -> None:
    one = "server {\n    listen 80;\n    location /api {\n        proxy_pass http://h:8000;\n    }\n}\n"
    text = one + "\n# TLS\n" + one.replace("listen 80", "listen 443 ssl")
    lines = [s.line for s, _p in walk(parse(text)) if s.name == "location"]
    plan = plan_file(
        "s.conf", text, [FixTarget("rewrite", line, URIS) for line in lines], port=7776
    )
    assert plan.candidate.count("proxy_pass http://h:8000;") == 2  # not this machine: kept
    assert plan.candidate.count("proxy_buffering off;") == 2
    assert "\n# TLS\n" in plan.candidate


def test_plan_insert_match_is_the_uris_common_prefix() -> None:
    text = "server {\n    location / {\n        proxy_pass http://127.0.0.1:3000/;\n    }\n}\n"
    plan = plan_file(
        "s.conf", text,
        [FixTarget("insert", 1, ("/v1/chat/completions",), source=(2, ("/",)))], port=3000,
    )  # fmt: skip
    assert "location /v1/chat/completions {" in plan.candidate
    # `/` replaced `/` before; under the longer prefix the URI part grows by the difference
    assert "proxy_pass http://127.0.0.1:3000/v1/chat/completions;" in plan.candidate
    (change,) = plan.changes
    assert plan.candidate.splitlines()[change.line_after - 1].strip().startswith("location /v1")


def test_plan_insert_copies_the_catch_alls_routing_and_headers() -> None:
    text = (
        "server {\n    location / {\n        proxy_pass http://litellm-backend;\n"
        "        proxy_set_header Host api.example.com;\n"
        "        proxy_set_header X-Forwarded-Proto $forwarded_proto;\n"
        "        try_files $uri @app;\n    }\n}\n"
    )
    target = FixTarget("insert", 1, ("/api/chat", "/api/other"), source=(2, ("/",)))
    plan = plan_file("s.conf", text, [target], port=7776, upstreams={"litellm-backend"})
    new = plan.candidate[len(text) - 2 :]
    assert "location /api {" in new
    assert "proxy_pass http://litellm-backend;" in new
    assert "proxy_set_header Host api.example.com;" in new
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in new
    assert "try_files" not in new and "proxy_buffering off;" in new


def test_plan_common_prefix_of_unrelated_uris_is_refused() -> None:
    with pytest.raises(FixError, match="share no path prefix"):
        common_prefix(["/api/x", "/v1/y"])
    assert common_prefix(["/api/chat/message", "/api/standalone-chat"]) == "/api"
