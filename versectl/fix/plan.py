"""The fix for one file: which blocks change and how, as edits, and the candidate text."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from versectl.errors import ConfigParseError, FixError
from versectl.fix.edit import Edit, apply_edits
from versectl.fix.locate import (
    Layout,
    detect_layout,
    find_statement,
    line_end,
    line_start,
    statement_indent,
)
from versectl.fix.merge import IncludeReader, Inherited, MergeResult, merge
from versectl.fix.proxy_target import URL, retarget
from versectl.fix.syntax import Node, Statement, parse, quote_word, statements
from versectl.fix.template import load_template, render_location
from versectl.nginx.model import DEFAULTS


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
    inherited: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Settings the block inherits from the enclosing levels (name, args), from the model."""
    source: tuple[int, tuple[str, ...]] | None = None
    """insert: the catch-all location (line, args) in this file that served the URIs; the new
    block proxies where it proxies, with its headers."""
    outside: tuple[str, str, tuple[tuple[str, tuple[str, ...]], ...]] | None = None
    """insert, the catch-all written in another file (an included snippet): its place, its
    match and its own simple statements (name, args), to copy in the same way."""
    variables: tuple[tuple[str, str], ...] = ()
    """rewrite: the literal `set` values in the block's scope (model.variables.literal_sets)."""


@dataclass
class BlockChange:
    """What the fix does at one target."""

    target: FixTarget
    action: Literal["rewrite", "insert", "unchanged", "skipped"]
    match: str
    """The location's match as written ("/api", "~ ^/api/"), or the new one."""
    merge: MergeResult | None = None
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    anchor: int = -1
    """Offset (in the original text) where the block's `location` starts or will be inserted;
    with `anchor_in_edit`, an offset inside the inserting edit's replacement."""
    anchor_in_edit: int = -1
    line_after: int = 0
    """The line the block's `location` starts on in the candidate (0: no block)."""


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
    include_reader: IncludeReader = lambda _pattern: [],
) -> FilePlan:
    """Plan the fix of `text` (the content of `path`) at each target."""
    nodes = parse(text, path)
    layout = detect_layout(text, nodes)
    changes: list[BlockChange] = []
    seen: set[tuple[str, int, tuple[str, ...] | None]] = set()
    context = _Context(path, text, nodes, layout, port, upstreams, include_reader)
    for target in targets:
        if (target.kind, target.line, target.args) in seen:
            continue
        seen.add((target.kind, target.line, target.args))
        changes.append(
            _rewrite(context, target) if target.kind == "rewrite" else _insert(context, target)
        )
    manual = [item for change in changes if change.merge for item in change.merge.manual]
    if manual:
        raise FixError("cannot fix this in " + path + ": " + "; ".join(manual))
    edits = [edit for change in changes for edit in change.edits]
    candidate = apply_edits(text, edits)
    try:
        parse(candidate, path)
    except ConfigParseError as exc:  # a bug in versectl: say so, write nothing
        raise FixError(
            f"internal error: the fixed text would not parse ({exc}); nothing written"
        ) from exc
    for change in changes:
        if change.anchor >= 0:
            offset = _shifted(edits, change.anchor) + max(change.anchor_in_edit, 0)
            change.line_after = candidate.count("\n", 0, offset) + 1
    return FilePlan(path, text, candidate, changes)


def _shifted(edits: Sequence[Edit], offset: int) -> int:
    """Where `offset` of the original text is in the edited text (edits before it move it)."""
    return offset + sum(
        len(edit.replacement) - (edit.end - edit.start)
        for edit in edits
        if edit.end <= offset and not (edit.start == edit.end == offset)
    )


@dataclass(frozen=True, slots=True)
class _Context:
    path: str
    text: str
    nodes: list[Node]
    layout: Layout
    port: int
    upstreams: Collection[str]
    include_reader: IncludeReader


def _inherited(target: FixTarget) -> Inherited:
    known = dict(target.inherited)
    return lambda name: known.get(name, DEFAULTS.get(name, ()))


def _rewrite(ctx: _Context, target: FixTarget) -> BlockChange:
    args = list(target.args) if target.args is not None else None
    location = find_statement(ctx.nodes, "location", target.line, args)  # one lexer: same args
    if location is None:
        raise FixError(f"{ctx.path}:{target.line}: no location block starts on this line")
    merged = merge(
        ctx.text, ctx.path, location, load_template(), port=ctx.port, upstreams=ctx.upstreams,
        include_reader=ctx.include_reader, inherited=_inherited(target), unit=ctx.layout.unit,
        variables=dict(target.variables),
    )  # fmt: skip
    match = " ".join(location.args)
    action: Literal["rewrite", "unchanged"] = "unchanged" if merged.already_good else "rewrite"
    return BlockChange(target, action, match, merged, list(merged.edits), anchor=location.start)


def _insert(ctx: _Context, target: FixTarget) -> BlockChange:
    path, text, layout = ctx.path, ctx.text, ctx.layout
    server = find_statement(ctx.nodes, "server", target.line)
    if server is None or server.block is None:
        raise FixError(f"{path}:{target.line}: no server block starts on this line")
    children = statements(server.block)
    if any(child.name == "return" for child in children):
        note = "this server answers every request with `return` (a redirect?): nothing to add"
        return BlockChange(target, "skipped", "", notes=[note])
    copied, origin, as_is = _catch_all(ctx, target)
    if as_is is not None:  # the catch-all streams the chat already: leave it be
        return as_is
    prefix = common_prefix(target.uris)
    header = ["location", prefix]
    if _regex_may_win(children, target.uris):
        header = ["location", "^~", prefix]  # ^~: a matching prefix stops the regex search
    for child in children:
        if child.name == "location" and child.args[-1:] == [prefix] and child.args[0] != "=":
            raise FixError(
                f"{path}:{child.line}: a location {prefix} exists but does not serve "
                f"{', '.join(target.uris)}; fix it by hand (a regex location wins?)"
            )
    server_indent = statement_indent(text, server, _line_indent(text, server.start))
    indent = server_indent + layout.unit
    notes: list[str] = []
    if copied is not None:
        scratch = _copied_block(copied, origin[1], header, indent, layout)
        notes.append(
            f"the new block proxies where location {origin[1]} ({origin[0]}) does, with its "
            "headers and settings"
        )
    else:
        scratch = indent + render_location(
            load_template(), header=header, args={"proxy_pass": [retarget(None, ctx.port, ()).url]},
            indent=indent, unit=layout.unit, newline=layout.newline,
        )  # fmt: skip
        notes.append(
            f"the new block proxies to 127.0.0.1:{ctx.port}; change the host if the backend runs "
            "elsewhere (another machine, a container name)"
        )
    scratch_name = f"{path} (new block)"
    (location,) = statements(parse(scratch, scratch_name))
    merged = merge(
        scratch, scratch_name, location, load_template(), port=ctx.port, upstreams=ctx.upstreams,
        include_reader=ctx.include_reader, inherited=_inherited(target), unit=layout.unit,
    )  # fmt: skip
    block = apply_edits(scratch, merged.edits)[len(indent) :]
    _unnumbered(merged)  # its line numbers count in the scratch block, not in the file
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
    edit = Edit(path, position, position, insertion)
    change = BlockChange(
        target, "insert", " ".join(header[1:]), merged, [edit], notes, anchor=position,
        anchor_in_edit=insertion.index(block),
    )  # fmt: skip
    return change


def _unnumbered(merged: MergeResult) -> None:
    for changes in (merged.replaced, merged.same, merged.kept_changes, merged.dropped):
        changes[:] = [dataclasses.replace(change, line=0) for change in changes]
    merged.notes = [re.sub(r"^line \d+: ", "", note) for note in merged.notes]


def common_prefix(uris: Sequence[str]) -> str:
    """The longest path prefix (whole segments) the URIs share: the new location's match."""
    paths = [uri.split("?", 1)[0] for uri in uris]
    split = [path.split("/") for path in paths]
    shared: list[str] = []
    for parts in zip(*split, strict=False):
        if any(part != parts[0] for part in parts):
            break
        shared.append(parts[0])
    prefix = "/".join(shared)
    if not prefix.strip("/"):
        raise FixError(
            f"{', '.join(uris)} share no path prefix: one new location cannot serve them "
            "without catching everything; run fix once per --uri"
        )
    return prefix if prefix.startswith("/") else "/" + prefix


_NOT_COPIED = frozenset({"location", "try_files", "return"})
"""Nested locations stay under the catch-all; try_files/return would answer instead of the proxy."""


@dataclass(frozen=True, slots=True)
class _Copied:
    """One statement of the catch-all, as it is written (or rendered, from another file)."""

    name: str
    args: tuple[str, ...]
    source: str


def _catch_all(
    ctx: _Context, target: FixTarget
) -> tuple[list[_Copied] | None, tuple[str, str], BlockChange | None]:
    """The catch-all's statements to copy when it proxies (else None), where it is and its
    match, and an "unchanged" change when the catch-all streams already."""
    template, inherited = load_template(), _inherited(target)
    if target.source is not None:
        found = find_statement(ctx.nodes, "location", target.source[0], list(target.source[1]))
        if found is not None and any(s.name == "proxy_pass" for s in statements(found.block or [])):
            copied = [
                _Copied(s.name, tuple(s.args), ctx.text[s.start : s.end])
                for s in statements(found.block or [])
                if s.name not in _NOT_COPIED
            ]
            as_is = merge(
                ctx.text, ctx.path, found, template, port=ctx.port, upstreams=ctx.upstreams,
                include_reader=ctx.include_reader, inherited=inherited, unit=ctx.layout.unit,
            )  # fmt: skip
            origin = (f"line {found.line}", " ".join(found.args))
            unchanged = BlockChange(target, "unchanged", origin[1], as_is, anchor=found.start)
            return copied, origin, unchanged if as_is.already_good else None
    if target.outside is not None:
        where, match, simple = target.outside
        copied = [
            _Copied(name, args, " ".join([name, *(quote_word(a) for a in args)]) + ";")
            for name, args in simple
            if name not in _NOT_COPIED
        ]
        if any(c.name == "proxy_pass" for c in copied):
            scratch = "location / {\n" + "".join(f"    {c.source}\n" for c in copied) + "}\n"
            (block,) = statements(parse(scratch, where))
            as_is = merge(
                scratch, where, block, template, port=ctx.port, upstreams=ctx.upstreams,
                include_reader=ctx.include_reader, inherited=inherited, unit="    ",
            )  # fmt: skip
            unchanged = BlockChange(target, "unchanged", match, as_is)
            return copied, (where, match), unchanged if as_is.already_good else None
    return None, ("", ""), None


def _copied_block(
    copied: list[_Copied], old_prefix: str, header: list[str], indent: str, layout: Layout
) -> str:
    """A new location holding the catch-all's own statements (not its nested locations), its
    proxy_pass URI part adjusted so the new prefix maps to the same backend path."""
    nl, child = layout.newline, indent + layout.unit
    lines = [indent + " ".join(quote_word(word) for word in header) + " {"]
    for statement in copied:
        if statement.name == "proxy_pass" and len(statement.args) == 1:
            url = _moved_uri_part(statement.args[0], old_prefix.split()[-1], header[-1])
            lines.append(f"{child}proxy_pass {quote_word(url)};")
            continue
        lines.append(child + statement.source)
    return nl.join([*lines, indent + "}"])


def _moved_uri_part(url: str, old_prefix: str, new_prefix: str) -> str:
    """proxy_pass with a URI part replaces the matched prefix: under a longer prefix the part
    grows by the difference, so each request still reaches the same backend path."""
    parsed = URL.fullmatch(url)
    if "$" in url or parsed is None or not parsed.group("rest"):
        return url
    if not new_prefix.startswith(old_prefix):
        return url
    return url + new_prefix[len(old_prefix) :]


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
