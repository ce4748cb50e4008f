"""The one lexer reads what nginx reads: the issue's disagreement table (nginx wins), crossplane
as an oracle where it agrees with nginx (tokens written without a backslash), spans that cut
the source exactly, comments as tokens. tests/nginx/test_lexer_nginx.py holds it to nginx."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from crossplane.lexer import _lex_file_object

from tests.support.nginx import require_nginx
from versectl.errors import ConfigParseError
from versectl.nginx.lexer import MAX_DEPTH, Token, is_comment, tokens

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld"

TRICKY = [
    'log_format main \'$remote_addr - "$request"\'\n    "$status";',
    'add_header X-Say "He said \\"hi\\"" always;',
    "set $a 'it\\'s';",
    "rewrite ^/(.*)\\;x$ /$1 break;",
    'location ~ "^/api/(?<rest>.*)$" { proxy_pass http://b/${rest}; }',
    "return 200 ${scheme}://x;",
    "server_name a;#glued comment\nlisten 80;# another\n",
    'if ($http_x = "a b") { return 403; }',
    "map $http_upgrade $connection_upgrade {\n  default upgrade;\n  '' close;\n}",
    'proxy_set_header Connection "";',
    "location /a#b { }",
    'add_header A "multi\nline";',
    "a\\ b c;",
]


def _crossplane(text: str) -> list[tuple[str, int, bool]]:
    found = list(_lex_file_object(io.StringIO(text)))
    return [(t, line, q) for t, line, q in found if q or not t.startswith("#")]


def _agrees_with_crossplane(text: str, path: str) -> None:
    """Same tokens as crossplane, except a token written with a backslash: crossplane decodes
    only an escaped quote, nginx also `\\\\`, `\\t`, `\\r`, `\\n` (the nginx test checks those)."""
    ours = tokens(text, path)
    theirs = _crossplane(text)
    assert len(ours) == len(theirs), path
    for (value, line, quoted, start, end), expected in zip(ours, theirs, strict=True):
        if "\\" not in text[start:end]:
            assert (value, line, quoted) == expected, (path, text[start:end])


def _configs() -> list[Path]:
    here = Path(__file__).parent
    return sorted((here / "cases").glob("*/*.conf"))


@pytest.mark.parametrize("path", _configs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lexer_agrees_with_crossplane_on_cases(path: Path) -> None:
    _agrees_with_crossplane(path.read_text(), str(path))


@pytest.mark.parametrize("text", TRICKY)
def test_lexer_agrees_with_crossplane_on_tricky_syntax(text: str) -> None:
    _agrees_with_crossplane(text, "x.conf")


def test_lexer_agrees_with_crossplane_on_realworld_and_debian_configs() -> None:
    paths = [p for p in REALWORLD.rglob("*") if p.is_file()]
    paths += [p for p in Path("/etc/nginx").rglob("*") if p.is_file() and p.suffix in ("", ".conf")]
    checked = 0
    for path in paths:
        text = path.read_text(errors="replace")
        try:
            tokens(text, str(path))
        except ConfigParseError:
            continue  # not an nginx config (a README) or one nginx rejects too
        _agrees_with_crossplane(text, str(path))
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    ("text", "values"),
    [
        # the table: crossplane read these differently, nginx 1.22 reads them so
        ('return 200 "a\\tb";', ["return", "200", "a\tb", ";"]),
        ("return 200 foo};", ["return", "200", "foo}", ";"]),
        # a form feed is not whitespace for nginx; `{` after `$` stays in the word
        ("return 200 a\fb;", ["return", "200", "a\fb", ";"]),
        ("d ${a}{ x; }", ["d", "${a}", "{", "x", ";", "}"]),
        ("d a\"b c'd;", ["d", 'a"b', "c'd", ";"]),
        ("d a\\;b \\x;", ["d", "a\\;b", "\\x", ";"]),
    ],
)
def test_lexer_reads_what_nginx_reads_where_crossplane_does_not(
    text: str, values: list[str]
) -> None:
    assert [t[0] for t in tokens(text, "x.conf")] == values


def test_lexer_rejects_a_quote_glued_to_a_word_as_nginx_does() -> None:
    # crossplane accepts `x "q"tail;` as two tokens; nginx: unexpected "t"
    with pytest.raises(ConfigParseError, match='unexpected "t"'):
        tokens('x "q"tail;', "x.conf")


def test_lexer_spans_cut_the_source_exactly() -> None:
    text = "a \"b c\" 'd' e\\ f;  # note\n{ }"
    found = tokens(text, "x.conf", comments=True)
    assert [text[s:e] for _v, _l, _q, s, e in found] == [
        "a",
        '"b c"',
        "'d'",
        "e\\ f",
        ";",
        "# note",
        "{",
        "}",
    ]
    assert [t for t in found if is_comment(t)] == [("# note", 1, False, 19, 25)]
    assert tokens(text, "x.conf") == [t for t in found if not is_comment(t)]


def test_lexer_lines_count_newlines_inside_tokens() -> None:
    found: list[Token] = tokens('a "x\ny" b\n"\n" c;', "x.conf")
    assert [(t[0], t[1]) for t in found] == [
        ("a", 1),
        ("x\ny", 1),
        ("b", 2),
        ("\n", 3),
        ("c", 4),
        (";", 4),
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("server {\n  listen 80;\n", 'expecting "}"', 3),
        ("server { }\n}\n", 'unexpected "}"', 2),
        ('server { return 200 "open;\n}\n', "unterminated quote", 1),
        ('server {\n return 200 "x"}', 'unexpected "}"', 2),
        ('server {\n return 200 "x"#c\n}', 'unexpected "#"', 2),
    ],
)
def test_lexer_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(ConfigParseError, match=message) as caught:
        tokens(text, "x.conf")
    assert caught.value.line == line


def _nginx_t(tmp_path: Path, main: bytes) -> subprocess.CompletedProcess[str]:
    conf = tmp_path / "nginx.conf"
    conf.write_bytes(main)
    (tmp_path / "logs").mkdir(exist_ok=True)
    return subprocess.run(
        [
            require_nginx(),
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(conf),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


SMALL_HTTP = b"events {}\nhttp { access_log off; server { listen 127.0.0.1:1; %s } }\n"


@pytest.mark.e2e
def test_lexer_bom_rejected_like_real_nginx(tmp_path: Path) -> None:
    # crossplane reads the BOM into the first word and accepts; nginx -t rejects: nginx wins
    with_bom = b"\xef\xbb\xbf" + SMALL_HTTP % b""
    assert _nginx_t(tmp_path, SMALL_HTTP % b"").returncode == 0
    result = _nginx_t(tmp_path, with_bom)
    assert result.returncode != 0 and "unknown directive" in result.stderr
    with pytest.raises(ConfigParseError, match="byte order mark"):
        tokens(with_bom.decode(), "nginx.conf")


@pytest.mark.e2e
def test_lexer_depth_limit_is_ours_not_nginx(tmp_path: Path) -> None:
    # nginx accepts locations nested far past MAX_DEPTH: the limit is versectl's, and says so
    depth = 2 * MAX_DEPTH
    nested = b"location /a { " * depth + b"}" * depth
    assert _nginx_t(tmp_path, SMALL_HTTP % nested).returncode == 0
    with pytest.raises(ConfigParseError, match="versectl's limit"):
        tokens((SMALL_HTTP % nested).decode(), "nginx.conf")
