"""Process exit codes shared by every command (CONTRACT.md, "Exit codes")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a script can rely on after any versectl command."""

    OK = 0
    """check: no error findings; probe: streaming; fix: nothing to change or written+validated."""
    FINDINGS = 1
    """check: error findings (or warnings with --strict); probe: buffered or partial;
    fix: (dry run) a change is needed."""
    BAD_INPUT = 2
    """usage, unreadable/unparsable input, connection/TLS/HTTP/protocol error, failed validation."""
    INCONCLUSIVE = 3
    """probe: the stream was too short to tell."""


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 findings (check errors, probe buffered/partial, fix needed); "
    "2 bad input or connection/validation failure; 3 probe inconclusive."
)
