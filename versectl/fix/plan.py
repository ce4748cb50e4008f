"""The fix for one file: which blocks change and how, as edits, and the candidate text."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from versectl.errors import ConfigParseError, FixError
from versectl.fix.edit import Edit, apply_edits
from versectl.fix.locate import (
    Layout,
    body_range,
    detect_layout,
    find_statement,
    line_end,
    line_start,
    statement_indent,
)
from versectl.fix.merge import IncludeKeys, MergeResult, merge
from versectl.fix.proxy_target import retarget
from versectl.fix.syntax import Node, Statement, parse, statements
from versectl.fix.template import load_template, render_body, render_location

API_PREFIX = "/api"


@dataclass(frozen=True, slots=True)
class FixTarget:
    """A place in the file that serves the chat URIs.

    "rewrite": the location on `line` serves them; "insert": nothing but a catch-all (or
    nothing at all) serves them in the server block on `line`, so a location is added there.
    """

    kind: Literal["rewrite", "insert"]
    line: int
    uris: tuple[str, ...]
    args: tuple[str, ...] | None = None
    """The location's arguments (e.g. ("^~", "/api")), to tell apart blocks on one line."""


@dataclass
class BlockChange:
    """What the fix does at one target."""

    target: FixTarget
    action: Literal["rewrite", "insert", "unchanged", "skipped"]
    match: str
    """The location's match as written ("/api", "~ ^/api/"), or the new one."""
    merge: MergeResult | None = None
    edit: Edit | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class FilePlan:
    """The fix of one file: `candidate` is `original` with every block change applied."""

    path: str
    original: str
    candidate: str
    changes: list[BlockChange]

    @property
    def changed(self) -> bool:
        return self.candidate != self.original


def plan_file(
    path: str,
    text: str,
    targets: Sequence[FixTarget],
    *,
    port: int,
    upstreams: Collection[str] = (),
    include_keys: IncludeKeys = lambda _pattern: None,
) -> FilePlan:
    """Plan the fix of `text` (the content of `path`) at each target."""
    nodes = parse(text, path)
    layout = detect_layout(text, nodes)
    changes: list[BlockChange] = []
    seen: set[tuple[str, int, tuple[str, ...] | None]] = set()
    for target in targets:
        if (target.kind, target.line, target.args) in seen:
            continue
        seen.add((target.kind, target.line, target.args))
        if target.kind == "rewrite":
            changes.append(
                _rewrite(path, text, nodes, layout, target, port, upstreams, include_keys)
            )
        else:
            changes.append(_insert(path, text, nodes, layout, target, port))
    edits = [change.edit for change in changes if change.edit is not None]
    candidate = apply_edits(text, edits)
    try:
        parse(candidate, path)
    except ConfigParseError as exc:  # a bug in versectl: say so, write nothing
        raise FixError(
            f"internal error: the fixed text would not parse ({exc}); nothing written"
        ) from exc
    return FilePlan(path, text, candidate, changes)


def _rewrite(
    path: str,
    text: str,
    nodes: list[Node],
    layout: Layout,
    target: FixTarget,
    port: int,
    upstreams: Collection[str],
    include_keys: IncludeKeys,
) -> BlockChange:
    args = list(target.args) if target.args is not None else None
    location = find_statement(nodes, "location", target.line, args)
    if location is None and args is not None:  # crossplane may unquote args differently
        location = find_statement(nodes, "location", target.line)
    if location is None:
        raise FixError(f"{path}:{target.line}: no location block starts on this line")
    template = load_template()
    merged = merge(
        text, location, template, port=port, upstreams=upstreams, include_keys=include_keys
    )
    match = " ".join(location.args)
    if merged.already_good:
        return BlockChange(target, "unchanged", match, merged)
    indent = statement_indent(text, location, _line_indent(text, location.start))
    start, end = body_range(text, location)
    body = render_body(
        template, args=merged.args, kept=merged.kept, indent=indent,
        unit=layout.unit, newline=layout.newline,
    )  # fmt: skip
    if start > 0 and text[start - 1] != "\n":
        body = layout.newline + body
    if end > 0 and text[end - 1] != "\n":
        body += indent
    return BlockChange(target, "rewrite", match, merged, Edit(path, start, end, body))


def _insert(
    path: str, text: str, nodes: list[Node], layout: Layout, target: FixTarget, port: int
) -> BlockChange:
    server = find_statement(nodes, "server", target.line)
    if server is None or server.block is None:
        raise FixError(f"{path}:{target.line}: no server block starts on this line")
    children = statements(server.block)
    if any(child.name == "return" for child in children):
        note = "this server answers every request with `return` (a redirect?): nothing to add"
        return BlockChange(target, "skipped", API_PREFIX, notes=[note])
    header = ["location", API_PREFIX]
    if _regex_may_win(children, target.uris):
        header = ["location", "^~", API_PREFIX]  # ^~: a matching prefix stops the regex search
    for child in children:
        if child.name == "location" and child.args[-1:] == [API_PREFIX]:
            raise FixError(
                f"{path}:{child.line}: a location {API_PREFIX} exists but does not serve "
                f"{', '.join(target.uris)}; fix it by hand (a regex location wins?)"
            )
    server_indent = statement_indent(text, server, _line_indent(text, server.start))
    indent = server_indent + layout.unit
    block = render_location(
        load_template(), header=header, args={"proxy_pass": [retarget(None, port, ()).url]},
        indent=indent, unit=layout.unit, newline=layout.newline,
    )  # fmt: skip
    nl = layout.newline
    locations = [child for child in children if child.name == "location"]
    if locations:
        position = _after_trailing_comment(text, locations[-1].end)
        insertion = f"{nl}{nl}{indent}{block}"
    else:
        position = line_start(text, server.close_brace)
        insertion = f"{nl}{indent}{block}{nl}"
        if text[position : server.close_brace].strip(" \t"):
            position = server.close_brace
            insertion = f"{nl}{indent}{block}{nl}{server_indent}"
    notes = [
        f"the new block proxies to 127.0.0.1:{port}; change the host if the backend runs "
        "elsewhere (another machine, a container name)"
    ]
    edit = Edit(path, position, position, insertion)
    return BlockChange(target, "insert", " ".join(header[1:]), edit=edit, notes=notes)


def _line_indent(text: str, offset: int) -> str:
    line = text[line_start(text, offset) : offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _after_trailing_comment(text: str, offset: int) -> int:
    """Past a comment on the rest of this line, so the insertion does not split it off."""
    end = line_end(text, offset)
    rest = text[offset:end].strip(" \t\r")
    return end - (1 if text[end - 1 : end] == "\r" else 0) if rest.startswith("#") else offset


def _regex_may_win(children: list[Statement], uris: Sequence[str]) -> bool:
    """Whether a regex location of the server could match a chat URI (nginx checks regexes
    after prefixes and a match wins). A pattern Python's re cannot read counts as a match."""
    for child in children:
        if child.name != "location" or len(child.args) != 2 or child.args[0] not in ("~", "~*"):
            continue
        try:
            pattern = re.compile(child.args[1], re.IGNORECASE if child.args[0] == "~*" else 0)
        except re.error:
            return True
        if any(pattern.search(uri) for uri in uris):
            return True
    return False
