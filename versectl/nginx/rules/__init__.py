"""The rule catalog: every rule module, named explicitly, in report order."""

from __future__ import annotations

from versectl.nginx.rules.base import Rule

RULES: tuple[Rule, ...] = ()


def rule_by_name(name: str) -> Rule | None:
    for rule in RULES:
        if rule.name == name:
            return rule
    return None
