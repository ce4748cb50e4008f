"""nginx's regexes (PCRE: `location ~`, `server_name ~`) as `regex` patterns, matched with a
time bound: a config's pattern is input, and one that backtracks without end must not hang."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from versectl.errors import ConfigParseError
from versectl.nginx.directive import Directive

if TYPE_CHECKING:
    import regex

MATCH_TIMEOUT = 0.1
"""Seconds one match may take. A location or server_name regex matches a URI or a host name in
microseconds; what takes longer backtracks exponentially (PCRE stops such a match at its
match_limit and nginx answers 500), so it is reported, not waited for."""


@lru_cache(maxsize=4096)
def compile_regex(pattern: str, ignore_case: bool) -> regex.Pattern[str] | None:
    """A PCRE pattern as a `regex` pattern (which reads `(?<name>...)`, possessive quantifiers
    and atomic groups as PCRE does); None when it cannot express the pattern."""
    import regex  # here: ~9 ms of import, and most configs have no regex location

    try:
        return regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
    except (regex.error, ValueError, OverflowError, RecursionError):
        return None


def regex_search(
    compiled: regex.Pattern[str], subject: str, where: Directive | None = None
) -> bool:
    """Whether `compiled` matches somewhere in `subject`, within MATCH_TIMEOUT; ConfigParseError
    (at `where`) for a pattern that takes longer."""
    try:
        return compiled.search(subject, timeout=MATCH_TIMEOUT) is not None
    except TimeoutError:
        raise ConfigParseError(
            f"the regex {_short(compiled.pattern)!r} takes more than {MATCH_TIMEOUT:g} s to "
            f"match {_short(subject)!r} (it backtracks without end; nginx's PCRE gives up too "
            "and answers 500)",
            where.file if where is not None else None,
            where.line if where is not None else None,
        ) from None


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
