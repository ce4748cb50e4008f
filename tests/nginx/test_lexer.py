"""The fast lexer yields exactly crossplane's tokens (comments aside) on every config we have
and on the tricky corners of the syntax: quotes, escapes, `${var}`, glued comments."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from crossplane.lexer import _lex_file_object

from tests.support.nginx import require_nginx
from versectl.errors import ConfigParseError
from versectl.nginx.lexer import MAX_DEPTH, tokens

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
    'x "q"tail;',
]


def _crossplane(text: str) -> list[tuple[str, int, bool]]:
    found = list(_lex_file_object(io.StringIO(text)))
    return [(t, line, q) for t, line, q in found if q or not t.startswith("#")]


def _configs() -> list[Path]:
    here = Path(__file__).parent
    return sorted((here / "cases").glob("*/*.conf"))


@pytest.mark.parametrize("path", _configs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lexer_matches_crossplane_on_cases(path: Path) -> None:
    text = path.read_text()
    assert tokens(text, str(path)) == _crossplane(text)


@pytest.mark.parametrize("text", TRICKY)
def test_lexer_matches_crossplane_on_tricky_syntax(text: str) -> None:
    assert tokens(text, "x.conf") == _crossplane(text)


def test_lexer_matches_crossplane_on_debian_defaults() -> None:
    checked = 0
    for path in Path("/etc/nginx").rglob("*"):
        if path.is_file() and path.suffix in ("", ".conf") and path.stat().st_size < 200_000:
            text = path.read_text(errors="replace")
            assert tokens(text, str(path)) == _crossplane(text), path
            checked += 1
    if checked == 0:
        pytest.skip("no /etc/nginx on this machine")


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("server {\n  listen 80;\n", 'expecting "}"', 3),
        ("server { }\n}\n", 'unexpected "}"', 2),
        ('server { return 200 "open;\n}\n', "unterminated quote", 1),
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
