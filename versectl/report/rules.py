"""Rendering of `versectl rules` (the catalog) and `versectl explain RULE` (its sections)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markdown import Markdown
from rich.table import Table

from versectl.nginx.rules import Rule, explain_sections
from versectl.report.output import OutputFormat, emit_json, stdout_console

SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def render_catalog(rules: Sequence[Rule], output_format: OutputFormat) -> None:
    if output_format == OutputFormat.json:
        emit_json(
            {
                "version": 1,
                "rules": [
                    {
                        "name": r.name,
                        "severity": r.severity.value,
                        "family": r.family.value,
                        "summary": r.summary,
                    }
                    for r in rules
                ],
            }
        )
        return
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("family")
    table.add_column("summary")
    for rule in rules:
        style = SEVERITY_STYLE[rule.severity.value]
        table.add_row(
            rule.name, f"[{style}]{rule.severity.value}[/]", rule.family.value, rule.summary
        )
    console = stdout_console()
    console.print(table)
    console.print("\n`versectl explain RULE` tells what a rule detects and how to fix it.")


def render_explain(rule: Rule, output_format: OutputFormat = OutputFormat.table) -> None:
    if output_format == OutputFormat.json:
        rule_json = {
            "name": rule.name,
            "severity": rule.severity.value,
            "family": rule.family.value,
            "summary": rule.summary,
        }
        emit_json({"version": 1, "rule": {**rule_json, "sections": explain_sections(rule)}})
        return
    console = stdout_console()
    style = SEVERITY_STYLE[rule.severity.value]
    console.print(
        f"[bold]{rule.name}[/] ([{style}]{rule.severity.value}[/], {rule.family.value}): "
        f"{rule.summary}\n"
    )
    for title, body in explain_sections(rule).items():
        console.print(Markdown(f"## {title}\n\n{body}"))
        console.print()
