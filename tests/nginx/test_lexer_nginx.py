"""Differential: the lexer against nginx itself. Generated tokens (hypothesis) in `return 200
<token>;`: versectl's parser accepts exactly what `nginx -t` accepts, and the body nginx serves
is the value the lexer read. Every word written in tests/ and ../shared/realworld/ is served
back the same way. `$` is left out: nginx would interpolate it."""

from __future__ import annotations

import http.client
import subprocess
from collections.abc import Iterator
from pathlib import Path

import crossplane.analyzer
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.nginx import NginxServer, require_nginx, running_nginx
from versectl.demo.private_nginx import main_config
from versectl.errors import ConfigParseError
from versectl.nginx.directive import Directive
from versectl.nginx.lexer import tokens
from versectl.nginx.parse import HTTP, parse_text

ROOT = Path(__file__).resolve().parents[2]
REALWORLD = ROOT.parent / "shared" / "realworld"

# every character that matters to ngx_conf_read_token, a few letters, a non-ASCII one
ALPHABET = ["a", "x", "t", "n", " ", "\t", "\n", "\f", "\\", '"', "'", ";", "{", "}", "#", ")", "é"]


def _site(token: str, path: str = "/t") -> str:
    return f"location = {path} {{\n    return 200 {token};\n}}\n"


def _server(locations: str) -> str:
    return f"server {{\n listen 127.0.0.1:@PORT@;\n{locations}}}\n"


def _ours(token: str) -> tuple[bool, str | None]:
    """versectl's verdict on the site, and the text its `return` serves (None: no text)."""
    try:
        tree = parse_text(_server(_site(token)), "site.conf", HTTP)
    except ConfigParseError:
        return False, None
    names = {stmt.name for stmt in _walk(tree)}
    if not names <= set(crossplane.analyzer.DIRECTIVES):
        return False, None  # an unknown directive: nginx -t says so
    (location,) = [s for s in _walk(tree) if s.name == "location"]
    first = next(location.children("return"))
    return True, first.args[1] if len(first.args) == 2 else None


def _walk(block: tuple[Directive, ...]) -> Iterator[Directive]:
    for stmt in block:
        yield stmt
        yield from _walk(stmt.block or ())


@pytest.fixture(scope="module")
def nginx_t(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    binary = require_nginx()
    prefix = tmp_path_factory.mktemp("nginx-t")
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / name).mkdir(parents=True)
    (prefix / "nginx.conf").write_text(main_config(prefix, prefix / "site.conf"))
    yield binary, prefix


def _nginx_accepts(nginx_t: tuple[str, Path], site: str) -> tuple[bool, str]:
    binary, prefix = nginx_t
    (prefix / "site.conf").write_text(site.replace("@PORT@", "1"), encoding="utf-8")
    result = subprocess.run(
        [binary, "-t", "-q", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        capture_output=True, check=False, timeout=30,
    )  # fmt: skip
    # nginx quotes the offending byte as it is: `unexpected "\xc3"` is not UTF-8
    return result.returncode == 0, result.stderr.decode("utf-8", "replace")


def _served(server: NginxServer, paths: list[str]) -> list[bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    bodies = []
    for path in paths:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200, path
        bodies.append(response.read())
    connection.close()
    return bodies


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# the disagreement table, where nginx decides: TAB, rejected, `foo}` served
@example(sources=['"a\\tb"', 'x "q"tail', "foo}", "a\fb", "'it\\'s'", '""é'])
@given(st.lists(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=7).map("".join),
                min_size=1, max_size=6))  # fmt: skip
def test_lexer_accepts_and_reads_generated_tokens_as_nginx_does(
    nginx_t: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory, sources: list[str]
) -> None:
    served: list[tuple[str, str]] = []
    for source in sources:
        accepted, text = _ours(source)
        nginx_accepted, why = _nginx_accepts(nginx_t, _server(_site(source)))
        assert accepted == nginx_accepted, (source, why)
        if text is not None:
            served.append((source, text))
    if not served:
        return
    locations = "".join(_site(source, f"/t{i}") for i, (source, _text) in enumerate(served))
    prefix = tmp_path_factory.mktemp("nginx-values")
    with running_nginx(prefix, _server(locations)) as server:
        bodies = _served(server, [f"/t{i}" for i in range(len(served))])
    assert bodies == [text.encode() for _source, text in served], served


def _corpus_words() -> dict[str, str]:
    """Source text -> value of every quoted or bare word (no `$`) in the configs we have."""
    paths = sorted(ROOT.glob("tests/**/*.conf")) + sorted(
        p for p in REALWORLD.rglob("*") if p.is_file() and p.suffix not in (".md", ".py")
    )
    words: dict[str, str] = {}
    for path in paths:
        text = path.read_text(errors="replace")
        try:
            found = tokens(text, str(path))
        except ConfigParseError:
            continue
        for value, _line, quoted, start, end in found:
            source = text[start:end]
            skipped = any(skip in source for skip in ("$", "\ufffd", "@PORT@"))
            if (quoted or value not in "{;}") and not skipped:
                words[source] = value
    return words


def test_every_word_of_the_corpus_is_served_back_as_the_lexer_read_it(
    tmp_path: Path,
) -> None:
    require_nginx()
    words = _corpus_words()
    assert len(words) > 1000  # the corpus is there: tests/ and ../shared/realworld/
    sources = list(words)
    locations = "".join(_site(source, f"/w{i}") for i, source in enumerate(sources))
    with running_nginx(tmp_path / "nginx", _server(locations)) as server:
        bodies = _served(server, [f"/w{i}" for i in range(len(sources))])
    wrong = [
        (source, body)
        for source, body in zip(sources, bodies, strict=True)
        if body != words[source].encode()
    ]
    assert wrong == []
