"""Decide, directive by directive, what the new block takes from the user's old one.

The template's directives win; the user's other directives (auth_basic, client_max_body_size,
allow/deny, nested locations...) are carried over with the comments written above them. A few
are dropped with a reason: folklore that does nothing, and what would answer before proxy_pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from versectl.errors import FixError
from versectl.fix.directives import directive_key, normalized
from versectl.fix.locate import indentation_of
from versectl.fix.proxy_target import retarget
from versectl.fix.syntax import Comment, Statement, quote_word
from versectl.fix.template import KEPT_MARKER, KeptChunk, TemplateBlock
from versectl.nginx.model.timeunits import parse_time

_DROPPED = {
    "proxy_set_header x-accel-buffering": (
        "does nothing: nginx reads X-Accel-Buffering from the backend's response, "
        "not from the request it sends"
    ),
    "try_files": "would look for files instead of passing the request to the backend",
    "return": "would answer before the request reaches the backend",
}
_OTHER_HANDLERS = ("fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass")

IncludeKeys = Callable[[str], set[str] | None]
"""Given an `include` pattern, the directive keys its files set (None when unreadable)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One of the user's directives and what happens to it."""

    line: int
    source: str
    reason: str


@dataclass
class MergeResult:
    """What the new block is made of."""

    args: dict[str, list[str]]
    """Arguments for template directives that follow the user's (proxy_pass, a longer timeout)."""
    kept: list[KeptChunk] = field(default_factory=list)
    kept_changes: list[Change] = field(default_factory=list)
    dropped: list[Change] = field(default_factory=list)
    replaced: list[Change] = field(default_factory=list)
    """User directives the block sets differently (the reason holds the new statement)."""
    same: list[Change] = field(default_factory=list)
    """User directives the known-good block sets to the same value."""
    added: list[str] = field(default_factory=list)
    """Statements of the known-good block the user's block did not have."""
    notes: list[str] = field(default_factory=list)
    already_good: bool = False


def merge(
    text: str,
    location: Statement,
    template: TemplateBlock,
    *,
    port: int,
    upstreams: Collection[str],
    include_keys: IncludeKeys,
) -> MergeResult:
    """Merge the user's `location` block (in `text`) with the template."""
    assert location.block is not None
    user = [node for node in location.block if isinstance(node, Statement)]
    for statement in user:
        if statement.name in _OTHER_HANDLERS:
            raise FixError(
                f"line {statement.line}: this location uses {statement.name}, not proxy_pass; "
                "versectl fix only rewrites locations that proxy to an HTTP backend"
            )
    proxy_pass = [s for s in user if s.name == "proxy_pass"]
    target = retarget(proxy_pass[0].args[0] if proxy_pass and proxy_pass[0].args else None,
                      port, upstreams)  # fmt: skip
    result = MergeResult(args={"proxy_pass": [target.url]})
    if target.note:
        result.notes.append(target.note)
    timeouts = [s for s in user if s.name == "proxy_read_timeout" and len(s.args) == 1]
    wanted = parse_time(template.statement("proxy_read_timeout").args[0]) or 0
    if timeouts and (parse_time(timeouts[-1].args[0]) or 0) >= wanted:
        result.args["proxy_read_timeout"] = timeouts[-1].args  # longer is fine: keep the user's
    by_key = {directive_key(s.name, s.args): s for s in user}
    connection = by_key.get("proxy_set_header connection")
    template_connection = template.statement("proxy_set_header connection").args
    if (
        "proxy_set_header upgrade" in by_key
        and connection is not None
        and normalized(connection.name, connection.args)
        != normalized("proxy_set_header", template_connection)
    ):
        # WebSocket upgrades through this location need their Connection header: keep it.
        result.args["proxy_set_header connection"] = connection.args
        result.notes.append(
            f"line {connection.line}: kept your Connection header: this location also "
            "proxies WebSocket upgrades"
        )

    wanted_by_key = {
        directive_key(s.name, s.args): (
            s.name,
            result.args.get(directive_key(s.name, s.args), s.args),
        )
        for s in template.statements
    }
    kept_statements = _classify(text, location.block, wanted_by_key, include_keys, result)
    had = {directive_key(s.name, s.args) for s in user}
    result.added = [
        _statement_text(name, args) for key, (name, args) in wanted_by_key.items() if key not in had
    ]
    desired = Counter(
        normalized(s.name, result.args.get(directive_key(s.name, s.args), s.args))
        for s in template.statements
    )
    desired.update(_identity(text, s) for s in kept_statements)
    current = Counter(_identity(text, s) for s in user)
    result.already_good = desired == current
    return result


def _identity(text: str, statement: Statement) -> tuple[str, ...]:
    if statement.block is not None:  # carried over verbatim: compare the source
        return ("block", text[statement.start : statement.end])
    return normalized(statement.name, statement.args)


def _statement_text(name: str, args: list[str]) -> str:
    return " ".join([name, *(quote_word(arg) for arg in args)]) + ";"


def _classify(
    text: str,
    body: list[Statement | Comment],
    wanted: dict[str, tuple[str, list[str]]],
    include_keys: IncludeKeys,
    result: MergeResult,
) -> list[Statement]:
    """Sort the body's statements into kept / dropped / replaced; build the kept chunks."""
    owned = set(wanted)
    kept: list[Statement] = []
    leading: list[Comment] = []
    previous: Statement | None = None
    for node in body:
        if isinstance(node, Comment):
            if previous is not None and node.line == previous.end_line:
                continue  # a trailing comment: it travels with `previous`
            if node.text.strip() == KEPT_MARKER:
                continue
            if leading and node.line > leading[-1].line + 1:
                leading = []  # a blank line separates it from the comments above
            leading.append(node)
            continue
        statement, previous = node, node
        attached = leading if leading and statement.line <= leading[-1].line + 1 else []
        leading = []
        source = text[statement.start : statement.end]
        key = directive_key(statement.name, statement.args)
        if key in owned:
            name, args = wanted[key]
            if normalized(statement.name, statement.args) == normalized(name, args):
                result.same.append(
                    Change(statement.line, source, "the same in the known-good block")
                )
            else:
                new = _statement_text(name, args)
                result.replaced.append(Change(statement.line, source, f"becomes {new}"))
        elif key in _DROPPED or statement.name in _DROPPED:
            reason = _DROPPED.get(key) or _DROPPED[statement.name]
            result.dropped.append(Change(statement.line, source, reason))
        elif statement.name == "include" and _include_is_owned(statement, owned, include_keys):
            reason = "every directive it sets is in the known-good block"
            result.dropped.append(Change(statement.line, source, reason))
        else:
            kept.append(statement)
            result.kept.append(_chunk(text, statement, attached, body))
            result.kept_changes.append(Change(statement.line, source, "kept"))
            if statement.name == "include":
                _note_include_overlap(statement, owned, include_keys, result)
    return kept


def _include_is_owned(statement: Statement, owned: set[str], include_keys: IncludeKeys) -> bool:
    keys = include_keys(statement.args[0]) if statement.args else None
    return bool(keys) and keys is not None and keys <= owned


def _note_include_overlap(
    statement: Statement, owned: set[str], include_keys: IncludeKeys, result: MergeResult
) -> None:
    keys = include_keys(statement.args[0]) if statement.args else None
    if keys is None:
        result.notes.append(
            f"line {statement.line}: could not read include {statement.args[0]}: kept, unchecked"
        )
    elif keys & owned:
        result.notes.append(
            f"line {statement.line}: include {statement.args[0]} also sets "
            f"{', '.join(sorted(keys & owned))}; check it does not repeat the new block's values"
        )


def _chunk(
    text: str, statement: Statement, attached: list[Comment], body: list[Statement | Comment]
) -> KeptChunk:
    start = attached[0].start if attached else statement.start
    end = statement.end
    for node in body:  # a comment on the statement's last line travels with it
        if isinstance(node, Comment) and node.line == statement.end_line and node.start >= end:
            end = node.end
            break
    own_indent = indentation_of(text, start) or ""
    lines = text[start:end].splitlines()
    dedented = [lines[0].strip()]
    for line in lines[1:]:
        dedented.append(line[len(own_indent) :] if line.startswith(own_indent) else line.strip())
    return KeptChunk([line.rstrip() for line in dedented])
