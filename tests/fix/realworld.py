"""What a fix changed in a filled-in real-world copy (tests/support/realworld.py prepares it)."""

from __future__ import annotations

from pathlib import Path


def file_bytes(root: Path) -> dict[str, bytes]:
    """Every config file of a copy (not logs, pid, temp dirs): to prove what a fix changed."""
    skip = {"nginx.pid"}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name not in skip
        and not p.name.endswith((".bak", ".log"))
        and "_temp" not in str(p.relative_to(root))
    }
