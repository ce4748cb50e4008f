"""The offset-exact parser reads what nginx (and crossplane, where it agrees) reads."""

from __future__ import annotations

import crossplane
import pytest

import nginx_templates
from tests.fix.configs import seed_site
from versectl.errors import ConfigParseError
from versectl.fix.syntax import Comment, Statement, parse, quote_word, walk
from versectl.nginx.lexer import MAX_DEPTH


def _flat(nodes: list) -> list[tuple[str, list[str], int]]:
    return [(s.name, s.args, s.line) for s, _parents in walk(nodes)]


def _crossplane_flat(text: str, tmp_path) -> list[tuple[str, list[str], int]]:
    path = tmp_path / "x.conf"
    path.write_text(text)
    payload = crossplane.parse(str(path), single=True, check_ctx=False, check_args=False,
                               comments=False, strict=False)  # fmt: skip
    assert payload["status"] == "ok", payload["errors"]
    out: list[tuple[str, list[str], int]] = []

    def visit(block: list[dict]) -> None:
        for stmt in block:
            out.append((stmt["directive"], stmt["args"], stmt["line"]))
            visit(stmt.get("block", []))

    visit(payload["config"][0]["parsed"])
    return out


@pytest.mark.parametrize(
    "text",
    [
        seed_site(),
        nginx_templates.site(),
        nginx_templates.api_location(),
        "http { map $uri $x { default 0; ~^/api 1; } server { location = /a { return 200 'ok'; } } }",
        'server { add_header X-A "a;b{c}" always; location ~* \\.(js|css)$ { expires 1d; } }',
        "location /api {\n  # only a comment\n}\n",
    ],
)
def test_syntax_agrees_with_crossplane_on_ordinary_configs(text: str, tmp_path) -> None:
    assert _flat(parse(text)) == _crossplane_flat(text, tmp_path)


def test_syntax_offsets_cover_statements_and_blocks_exactly() -> None:
    text = "server {\n    listen 80;\n    location /api { proxy_pass http://x; }\n}\n"
    (server,) = parse(text)
    assert isinstance(server, Statement)
    assert text[server.start : server.end] == text.rstrip("\n")
    location = server.block[1]
    assert text[location.start : location.end] == "location /api { proxy_pass http://x; }"
    assert text[location.open_brace] == "{" and text[location.close_brace] == "}"
    assert (location.line, location.end_line) == (3, 3)


def test_syntax_reads_quotes_escapes_and_variables_like_nginx() -> None:
    text = r"""d "a b" 'it\'s' x\;y "\t" ${var}x a#b 'q';"""
    (statement,) = parse(text)
    # like nginx: "\\;" does not end the word, and its backslash is kept (only quotes,
    # backslash, t, r, n are unescaped)
    assert statement.args == ["a b", "it's", "x\\;y", "\t", "${var}x", "a#b", "q"]
    assert [w.quoted for w in statement.words[1:]] == [True, True, False, True, False, False, True]


def test_syntax_keeps_comments_with_positions() -> None:
    text = "# head\nlocation /api {  # trailing\n    proxy_pass http://x; # after\n}\n"
    nodes = parse(text)
    assert isinstance(nodes[0], Comment) and nodes[0].text == "# head"
    location = nodes[1]
    assert isinstance(location, Statement)
    comments = [n for n in location.block or [] if isinstance(n, Comment)]
    assert [(c.text, c.line) for c in comments] == [("# trailing", 2), ("# after", 3)]


def test_syntax_brace_after_a_variable_word_opens_a_block_as_in_nginx() -> None:
    # ngx_conf_read_token keeps "{" in a word only right after "$"; "${a}{" opens a block
    (statement,) = parse("d ${a}{ x; }")
    assert statement.args == ["${a}"] and statement.block is not None


def test_syntax_hash_inside_a_word_is_not_a_comment() -> None:
    (statement,) = parse("return 200 a#b;")
    assert statement.args == ["200", "a#b"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("server {\n  listen 80;\n", 3, "unexpected end of file"),
        ("server {\n}\n}\n", 3, 'unexpected "}"'),
        ("a b;\n;\n", 2, 'unexpected ";"'),
        ('a "x"y;\n', 1, 'unexpected "y"'),
        ("a 'open;\n\n", 1, "unterminated quote"),  # check's lexer: the quote's line
        ("listen 80\n", 2, "unexpected end of file"),
    ],
)
def test_syntax_errors_carry_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigParseError) as caught:
        parse(text, "site.conf")
    assert caught.value.file == "site.conf"
    assert caught.value.line == line
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "value", ["", "plain", "a b", "it's", "back\\slash", "semi;colon", "{brace}", "#hash", "$host"]
)
def test_syntax_quote_word_round_trips(value: str) -> None:
    (statement,) = parse(f"d {quote_word(value)};")
    assert statement.args == [value]


def test_syntax_walk_survives_deep_nesting() -> None:
    depth = MAX_DEPTH - 1
    text = "server { " + "location /a { " * depth + "}" * depth + " }\n"
    found = list(walk(parse(text)))
    assert len(found) == depth + 1
    assert len(found[-1][1]) == depth


def test_syntax_refuses_what_check_refuses_nesting_over_the_limit() -> None:
    text = "server { " + "location /a { " * MAX_DEPTH + "}" * MAX_DEPTH + " }\n"
    with pytest.raises(ConfigParseError, match="nested more than"):
        parse(text)
