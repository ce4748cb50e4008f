"""The known-good /api block (nginx_templates/api_location.conf) rendered for one place in a file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import nginx_templates
from versectl.fix.directives import directive_key
from versectl.fix.edit import Edit, apply_edits
from versectl.fix.locate import body_range, find_statement
from versectl.fix.syntax import Statement, parse, quote_word, statements

_TEMPLATE_UNIT = 4
"""The template file is indented with four spaces per level."""


@dataclass(frozen=True, slots=True)
class TemplateBlock:
    """The parsed template: its text and its `location` statement."""

    text: str
    location: Statement

    @property
    def statements(self) -> list[Statement]:
        assert self.location.block is not None
        return statements(self.location.block)

    def statement(self, key: str) -> Statement:
        """The template statement that sets `key` (see directive_key)."""
        for statement in self.statements:
            if directive_key(statement.name, statement.args) == key:
                return statement
        raise KeyError(key)


@cache
def load_template() -> TemplateBlock:
    """The known-good block shipped in nginx_templates (parsed once)."""
    text = nginx_templates.api_location()
    nodes = parse(text, nginx_templates.API_LOCATION)
    for node in nodes:
        if isinstance(node, Statement) and node.name == "location":
            found = find_statement(nodes, "location", node.line)
            assert found is not None
            return TemplateBlock(text, found)
    raise AssertionError("nginx_templates/api_location.conf holds no location block")


def render_body(
    template: TemplateBlock,
    *,
    args: Mapping[str, Sequence[str]],
    indent: str,
    unit: str,
    newline: str,
) -> str:
    """The block's body lines (each ending with `newline`) at `indent` + `unit`.

    `args` replaces the arguments of template statements by key (see directive_key), values
    quoted as needed, e.g. {"proxy_pass": ["http://backend:7776"]}.
    """
    edits = []
    for key, values in args.items():
        statement = template.statement(key)
        words = statement.words
        start, end = words[1].start, words[-1].end
        source = " ".join(quote_word(value) for value in values)
        edits.append(Edit(nginx_templates.API_LOCATION, start, end, source))
    text = apply_edits(template.text, edits)
    relocated = parse(text, nginx_templates.API_LOCATION)
    location = find_statement(relocated, "location", template.location.line)
    assert location is not None
    start, end = body_range(text, location)
    lines = [_reindent(line, indent, unit) for line in text[start:end].splitlines()]
    return "".join(line + newline for line in lines)


def render_location(
    template: TemplateBlock,
    *,
    header: Sequence[str],
    args: Mapping[str, Sequence[str]],
    indent: str,
    unit: str,
    newline: str,
) -> str:
    """A whole new location statement (first line unindented, `}` at `indent`)."""
    body = render_body(template, args=args, indent=indent, unit=unit, newline=newline)
    head = " ".join(quote_word(word) for word in header)
    return f"{head} {{{newline}{body}{indent}}}"


def _reindent(line: str, indent: str, unit: str) -> str:
    stripped = line.lstrip(" ")
    if not stripped.strip():
        return ""
    spaces = len(line) - len(stripped)
    level, rest = divmod(spaces, _TEMPLATE_UNIT)
    return indent + unit * level + " " * rest + stripped.rstrip()
