"""Where the backup goes: PATH.versectl-YYYYmmddHHMMSS.bak, unless nginx itself would load it.

Debian's nginx.conf has `include /etc/nginx/sites-enabled/*;`: a backup named verse.versectl-...bak
next to a regular file in sites-enabled would be loaded as a second site on the next reload
(the old, broken /api block included). Then the backup gets a leading dot, which glob skips.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from versectl.fix.includes import glob_would_match, includes
from versectl.fix.write import backup_path


@dataclass(frozen=True, slots=True)
class BackupPlan:
    """Include patterns of the config, to keep backups out of nginx's sight."""

    patterns: list[str]
    conf_dir: Path | None
    hidden_because: list[str]
    """Filled when a backup had to be hidden: the patterns that would have loaded it."""

    def name(self, target: Path, now: datetime) -> Path:
        wanted = backup_path(target, now)
        if self.conf_dir is None:
            return wanted
        hits = [p for p in self.patterns if glob_would_match(p, self.conf_dir, wanted)]
        if not hits:
            return wanted
        self.hidden_because.extend(hits)
        return wanted.with_name("." + wanted.name)


def backup_plan(main_config: Path | None) -> BackupPlan:
    """The include patterns of the config rooted at `main_config` (none when unknown)."""
    if main_config is None:
        return BackupPlan([], None, [])
    patterns = list(dict.fromkeys(include.pattern for include in includes(main_config)))
    return BackupPlan(patterns, main_config.parent, [])
