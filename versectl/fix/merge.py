"""Decide, directive by directive, the smallest edits that make a location stream.

The block is edited in place, statement by statement, the way a linter's fix edits a range:
every byte outside the changed statements stays (comments, quoted values, the user's order and
layout). The known-good block supplies only what is missing or measurably harmful: buffering, the
cache, a read timeout at or below the heartbeat, the port of a local proxy_pass. The user's headers (Host to an external API, map-based forwarding
headers) and every other directive stay as written.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from versectl.defaults import HEARTBEAT_S
from versectl.errors import FixError
from versectl.fix.directives import directive_key, normalized
from versectl.fix.edit import Edit
from versectl.fix.locate import indentation_of, line_end, line_start
from versectl.fix.proxy_target import retarget
from versectl.fix.syntax import Comment, Statement, quote_word
from versectl.fix.template import TemplateBlock
from versectl.nginx.directive_table import ACCEL_ONLY_IN_RESPONSE, HANDLERS, sets_accel_buffering
from versectl.nginx.model.timeunits import parse_time

_STREAMING = ("proxy_buffering", "proxy_cache")
"""Template directives whose value must be in effect (compared after normalization). With
buffering off, nginx passes every read on whatever the upstream HTTP version or gzip
(measured: versectl/nginx/TRUTH_MATRIX.md), so proxy_http_version and gzip are not forced."""
_OTHER_HANDLERS = tuple(name for name in HANDLERS if name != "proxy_pass")
_ANSWERS_ITSELF = ("try_files", "return")


@dataclass(frozen=True, slots=True)
class IncludedStatement:
    """A statement an `include` in the block brings in: where it is written and what it sets."""

    file: str
    line: int
    name: str
    args: tuple[str, ...]


IncludeReader = Callable[[str], list[IncludedStatement] | None]
"""Given an `include` pattern, the statements its files hold (None when unreadable)."""
Inherited = Callable[[str], tuple[str, ...]]
"""A directive's arguments as inherited from the enclosing levels (nginx's default if unset)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One of the user's statements and what happens to it (or what the fix adds, line 0)."""

    line: int
    source: str
    reason: str


@dataclass
class MergeResult:
    """The edits for one block and, for the report, what each of them is and why."""

    edits: list[Edit] = field(default_factory=list)
    replaced: list[Change] = field(default_factory=list)
    """User statements that change (the reason holds the new statement)."""
    added: list[str] = field(default_factory=list)
    """Statements added to the block."""
    same: list[Change] = field(default_factory=list)
    """User statements that already are as the known-good block wants them."""
    kept_changes: list[Change] = field(default_factory=list)
    """User values that differ from the known-good block and stay, with the reason."""
    dropped: list[Change] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    """What the fix cannot change in this block (an included file sets it): file:line, what."""
    notes: list[str] = field(default_factory=list)

    @property
    def already_good(self) -> bool:
        return not self.edits and not self.manual


def merge(
    text: str,
    path: str,
    location: Statement,
    template: TemplateBlock,
    *,
    port: int,
    upstreams: Collection[str],
    include_reader: IncludeReader,
    inherited: Inherited,
    unit: str,
    heartbeat: float = HEARTBEAT_S,
    variables: Mapping[str, str] | None = None,
) -> MergeResult:
    """The edits that make `location` (a block of `text`, the content of `path`) stream."""
    assert location.block is not None
    own = [node for node in location.block if isinstance(node, Statement)]
    for statement in own:
        if statement.name in _OTHER_HANDLERS:
            raise FixError(
                f"{path}:{statement.line}: this location uses {statement.name}, not proxy_pass; "
                "versectl fix only changes locations that proxy to an HTTP backend"
            )
    result = MergeResult()
    included = _included(own, include_reader, result)
    additions: list[str] = []
    removed: list[Statement] = []
    if any(item.name == "proxy_pass" for _inc, item in included):
        result.notes.append("an include of this block sets proxy_pass: its target stays")
    else:
        target = _Target(port, upstreams, variables or {})
        removed = _proxy_pass(text, path, own, target, result, additions)
    for name in (*_STREAMING, "proxy_read_timeout"):
        wanted = tuple(template.statement(name).args)
        _setting(text, path, name, wanted, own, included, inherited, heartbeat, result, additions)
    _headers(text, own, included, template, result)
    if additions:
        kept = [s for s in own if s not in removed]
        result.edits.append(_addition(text, path, location, kept, additions, unit))
        result.added.extend(additions)
    return result


def _included(
    own: list[Statement], include_reader: IncludeReader, result: MergeResult
) -> list[tuple[Statement, IncludedStatement]]:
    found: list[tuple[Statement, IncludedStatement]] = []
    for statement in own:
        if statement.name != "include" or len(statement.args) != 1:
            continue
        inside = include_reader(statement.args[0])
        if inside is None:
            result.notes.append(
                f"line {statement.line}: could not read include {statement.args[0]}: "
                "its directives are not taken into account"
            )
            continue
        found += [(statement, item) for item in inside]
    return found


class _Target(NamedTuple):
    """Where proxy_pass should go: the backend's port, the upstream names, the `set` values."""

    port: int
    upstreams: Collection[str]
    variables: Mapping[str, str]


def _proxy_pass(
    text: str,
    path: str,
    own: list[Statement],
    backend: _Target,
    result: MergeResult,
    additions: list[str],
) -> list[Statement]:
    """Point proxy_pass at the backend; returns the statements removed to make way for it."""
    passes = [s for s in own if s.name == "proxy_pass"]
    removed: list[Statement] = []
    if not passes:
        for statement in own:
            if statement.name in _ANSWERS_ITSELF:
                source = text[statement.start : statement.end]
                removed.append(statement)
                result.edits.append(_removal(text, path, statement))
                result.dropped.append(
                    Change(statement.line, source, "would answer before proxy_pass is reached")
                )
        target = retarget(None, backend.port, backend.upstreams)
        additions.append(f"proxy_pass {quote_word(target.url)};")
        return removed
    statement = passes[-1]
    if len(statement.args) != 1:
        return removed
    target = retarget(statement.args[0], *backend)
    if target.note:
        result.notes.append(f"line {statement.line}: {target.note}")
    source = text[statement.start : statement.end]
    if target.url == statement.args[0]:
        result.same.append(Change(statement.line, source, "the backend it names stays"))
        return removed
    word = statement.words[1]
    result.edits.append(Edit(path, word.start, word.end, quote_word(target.url)))
    result.replaced.append(
        Change(statement.line, source, f"becomes proxy_pass {quote_word(target.url)};")
    )
    return removed


def _acceptable(
    name: str, args: tuple[str, ...], wanted: tuple[str, ...], heartbeat: float
) -> bool:
    if name == "proxy_read_timeout":
        seconds = parse_time(args[0]) if len(args) == 1 else None
        return seconds is not None and seconds > heartbeat
    return normalized(name, list(args)) == normalized(name, list(wanted))


def _setting(
    text: str,
    path: str,
    name: str,
    wanted: tuple[str, ...],
    own: list[Statement],
    included: list[tuple[Statement, IncludedStatement]],
    inherited: Inherited,
    heartbeat: float,
    result: MergeResult,
    additions: list[str],
) -> None:
    new = f"{name} {' '.join(quote_word(arg) for arg in wanted)};"
    mine = [s for s in own if s.name == name]
    theirs = [(inc, item) for inc, item in included if item.name == name]
    if mine:
        statement = mine[-1]
        source = text[statement.start : statement.end]
        if _acceptable(name, tuple(statement.args), wanted, heartbeat):
            reason = "the same in the known-good block"
            if normalized(name, statement.args) != normalized(name, list(wanted)):
                reason = f"longer than the backend's longest silence ({heartbeat:g}s): kept"
                result.kept_changes.append(Change(statement.line, source, reason))
            else:
                result.same.append(Change(statement.line, source, reason))
            return
        first, last = statement.words[1:2], statement.words[-1]
        start = first[0].start if first else statement.words[0].end
        replacement = " ".join(quote_word(arg) for arg in wanted)
        if not first:
            replacement = " " + replacement
        result.edits.append(Edit(path, start, last.end if first else start, replacement))
        result.replaced.append(Change(statement.line, source, f"becomes {new}"))
    elif theirs:
        inc, item = theirs[-1]
        if _acceptable(name, item.args, wanted, heartbeat):
            return
        shown = " ".join([name, *item.args])
        result.manual.append(
            f"{item.file}:{item.line} sets `{shown};` (include {inc.args[0]} at {path}:"
            f"{inc.line}); nginx refuses a second {name} in the same block: change it to "
            f"`{new}` in {item.file} (every block including it gets the change)"
        )
    elif not _acceptable(name, inherited(name), wanted, heartbeat):
        additions.append(new)


def _headers(
    text: str,
    own: list[Statement],
    included: list[tuple[Statement, IncludedStatement]],
    template: TemplateBlock,
    result: MergeResult,
) -> None:
    """The user's proxy_set_header values stay: they route (Host to an external API) or carry
    the user's knowledge (a map-based X-Forwarded-Proto). None of them holds a stream back."""
    wanted = {
        directive_key(s.name, s.args): s
        for s in template.statements
        if s.name == "proxy_set_header"
    }
    mine = [s for s in own if s.name == "proxy_set_header"]
    for statement in mine:
        key = directive_key(statement.name, statement.args)
        source = text[statement.start : statement.end]
        if sets_accel_buffering(statement.name, statement.args):
            result.notes.append(
                f"line {statement.line}: `{source}` does nothing ({ACCEL_ONLY_IN_RESPONSE}, "
                "not in the request it sends); harmless, kept"
            )
        elif key in wanted:
            template_args = wanted[key].args
            if normalized(statement.name, statement.args) == normalized(
                statement.name, template_args
            ):
                result.same.append(
                    Change(statement.line, source, "the same in the known-good block")
                )
            else:
                result.kept_changes.append(
                    Change(statement.line, source, "your value: it does not hold the stream back")
                )
    for inc, item in included:
        if item.name == "proxy_set_header" and item.args[:1] and item.args[0].lower() == "host":
            result.notes.append(
                f"line {inc.line}: include {inc.args[0]} sets the headers ({item.file}): kept"
            )
            break


def _after_statement(text: str, statement: Statement, body: list[Statement | Comment]) -> int:
    """Past the statement and a comment that follows it on its line."""
    for node in body:
        if (
            isinstance(node, Comment)
            and node.line == statement.end_line
            and node.start >= statement.end
        ):
            return node.end
    return statement.end


def _addition(
    text: str,
    path: str,
    location: Statement,
    own: list[Statement],
    additions: list[str],
    unit: str,
) -> Edit:
    """One insertion holding the added statements: after the block's last statement (and its
    comment), at its indentation; on the block's line when it is written on one line."""
    assert location.block is not None
    nl = "\r\n" if text[location.start : location.end].count("\r\n") else "\n"
    one_line = text.count("\n", location.open_brace, location.close_brace) == 0
    if one_line:
        position = location.close_brace
        before = " " if text[position - 1 : position] not in (" ", "\t") else ""
        return Edit(path, position, position, before + " ".join(additions) + " ")
    header_indent = indentation_of(text, location.start)
    child_indent = (header_indent or "") + unit
    last = own[-1] if own else None
    if last is not None and (found := indentation_of(text, last.start)) is not None:
        child_indent = found
    position = (
        _after_statement(text, last, location.block)
        if last is not None
        else location.open_brace + 1
    )
    if last is None:
        rest = text[position : line_end(text, position)].strip(" \t\r")
        if rest.startswith("#"):  # `{  # api`: after that comment
            position = line_end(text, position)
            if text[position - 1 : position] == "\r":
                position -= 1
    insertion = "".join(f"{nl}{child_indent}{statement}" for statement in additions)
    return Edit(path, position, position, insertion)


def _removal(text: str, path: str, statement: Statement) -> Edit:
    """Remove a statement; its whole line when nothing else is on it."""
    start, end = statement.start, statement.end
    first = line_start(text, start)
    last = line_end(text, end)
    if text[first:start].strip(" \t") == "" and text[end:last].strip(" \t\r") == "":
        return Edit(path, first, min(last + 1, len(text)), "")
    return Edit(path, start, end, "")
