"""The rule catalog: every rule module, named explicitly, in report order."""

from __future__ import annotations

import re

from versectl.nginx.rules import (
    accel_request_header,
    backend_unreachable,
    connection_header,
    gzip_event_stream,
    header_inheritance,
    http_version,
    ignore_accel_buffering,
    missing_include,
    missing_location,
    no_proxy_pass,
    port_mismatch,
    proxy_buffering,
    proxy_cache,
    read_timeout,
    stale_reload,
    websocket_upgrade,
)
from versectl.nginx.rules.base import EXPLAIN_SECTIONS, Rule
from versectl.nginx.rules.family import Family

RULES: tuple[Rule, ...] = (
    missing_location,
    no_proxy_pass,
    port_mismatch,
    backend_unreachable,
    proxy_buffering,
    gzip_event_stream,
    ignore_accel_buffering,
    proxy_cache,
    read_timeout,
    http_version,
    header_inheritance,
    connection_header,
    accel_request_header,
    stale_reload,
    websocket_upgrade,
    missing_include,
)


def rule_by_name(name: str) -> Rule | None:
    for rule in RULES:
        if rule.name == name:
            return rule
    return None


def rules_in(*families: Family) -> frozenset[str]:
    """The names of the catalog's rules of these families."""
    return frozenset(rule.name for rule in RULES if rule.family in families)


def family_of(name: str) -> Family | None:
    """The family of the rule called `name` (None: no such rule)."""
    rule = rule_by_name(name)
    return rule.family if rule is not None else None


def explain_sections(rule: Rule) -> dict[str, str]:
    """The rule's explain text split at its `## Section` headings, in order."""
    parts = re.split(r"^## (.+)$", rule.explain, flags=re.MULTILINE)
    return {
        title.strip(): body.strip() for title, body in zip(parts[1::2], parts[2::2], strict=True)
    }


__all__ = [
    "EXPLAIN_SECTIONS",
    "RULES",
    "Family",
    "Rule",
    "explain_sections",
    "family_of",
    "rule_by_name",
    "rules_in",
]
