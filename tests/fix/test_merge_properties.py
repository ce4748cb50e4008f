"""Generated blocks (hypothesis): the fix never touches a quoted token or a comment, always
parses, makes the block stream, and is a fixed point."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from versectl.fix.edit import apply_edits
from versectl.fix.merge import merge
from versectl.fix.syntax import Comment, Statement, parse, walk
from versectl.fix.template import load_template
from versectl.nginx.model import DEFAULTS

_QUOTED_TEXT = st.text(alphabet=" ab;{}#\n\t'$", min_size=0, max_size=12)


@st.composite
def _quoted(draw: st.DrawFn) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    body = draw(_QUOTED_TEXT).replace(quote, "").replace("\\", "")
    return f"{quote}{body}{quote}"


@st.composite
def _statement(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return f"add_header X-Policy {draw(_quoted())};"
    if kind == 1:
        return f"set $x {draw(_quoted())};"
    if kind == 2:
        return f"proxy_buffering {draw(st.sampled_from(['on', 'off', 'ON']))};"
    if kind == 3:
        return f"proxy_read_timeout {draw(st.sampled_from(['5s', '15', '90', '1h']))};"
    if kind == 4:
        host = draw(st.sampled_from(["127.0.0.1:8000", "localhost", "api.example.com:9"]))
        return f"proxy_pass http://{host}/;"
    if kind == 5:
        return f"proxy_set_header Host {draw(st.sampled_from(['$host', 'api.openai.com']))};"
    if kind == 6:
        return f"proxy_cache {draw(st.sampled_from(['off', 'zone_a']))};"
    return "client_max_body_size 1m;"


def _single_value_key(statement: str) -> str:
    name = statement.split()[0]
    return statement if name in ("add_header", "set", "proxy_set_header") else name


@st.composite
def _block(draw: st.DrawFn) -> str:
    lines = []
    # nginx refuses a single-value directive twice in a block ("is duplicate"): generate valid ones
    for statement in draw(st.lists(_statement(), max_size=8, unique_by=_single_value_key)):
        if draw(st.booleans()):
            lines.append(f"    # about {draw(st.text(alphabet='ab {}; ', max_size=6))}")
        trailing = f"  # {draw(st.text(alphabet='ab ', max_size=4))}" if draw(st.booleans()) else ""
        lines.append(f"    {statement}{trailing}")
    return "location /api {\n" + "".join(line + "\n" for line in lines) + "}\n"


def _fix(text: str) -> tuple[str, int]:
    location = next(s for s in parse(text) if isinstance(s, Statement))
    result = merge(
        text, "g.conf", location, load_template(), port=7776, upstreams=(),
        include_reader=lambda _p: [], inherited=lambda name: DEFAULTS.get(name, ()), unit="    ",
    )  # fmt: skip
    return apply_edits(text, result.edits), len(result.edits)


def _quoted_and_comments(text: str) -> list[str]:
    found: list[str] = []
    nodes = parse(text)
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Comment):
            found.append(node.text)
        else:
            found += [text[w.start : w.end] for w in node.words if w.quoted]
            stack += node.block or []
    return sorted(found)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_block())
def test_merge_properties_on_generated_blocks(text: str) -> None:
    fixed, _count = _fix(text)
    # every quoted token and comment is still there, byte for byte
    assert _quoted_and_comments(fixed) == _quoted_and_comments(text)
    location = next(s for s, _p in walk(parse(fixed)) if s.name == "location")
    assert location.block is not None
    own = [s for s in location.block if isinstance(s, Statement)]
    buffering = [s.args for s in own if s.name == "proxy_buffering"]
    assert buffering and buffering[-1][0].lower() == "off"
    assert all(s.args != ["zone_a"] for s in own if s.name == "proxy_cache")
    # a fixed point: nothing more to do
    assert _fix(fixed) == (fixed, 0)
