"""`versectl rules` (the rule catalog) and `versectl explain RULE` (one rule's documentation)."""

from __future__ import annotations

from typing import Annotated

import typer

from versectl.commands.options import FormatOption
from versectl.report.formats import OutputFormat


def rules_command(
    *,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """List every rule of `check nginx`: name, default severity, one line each."""
    from versectl.nginx.rules import RULES
    from versectl.report.rules import render_catalog

    render_catalog(RULES, output_format)


def explain_command(
    rule: Annotated[str, typer.Argument(help="A rule name, as `versectl rules` lists them.")],
    *,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Explain one rule: what it detects, why it breaks streaming, example, fix, references."""
    from versectl.errors import InputError
    from versectl.nginx.rules import RULES, rule_by_name
    from versectl.report.rules import render_explain

    found = rule_by_name(rule.strip().lower())
    if found is None:
        names = ", ".join(r.name for r in RULES)
        raise InputError(f"unknown rule {rule!r}; the rules are: {names}")
    render_explain(found, output_format)
