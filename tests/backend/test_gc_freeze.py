"""Start-up objects are frozen out of the collector's reach, once per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, gc, sys
from verse_backend.app import create_app
from verse_backend.settings import Settings

async def start(db):
    app = create_app(Settings(db=db, provider="simulated"))
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()

first = asyncio.run(start(sys.argv[1] + "/a.sqlite3"))
second = asyncio.run(start(sys.argv[1] + "/b.sqlite3"))
print(first, second)
"""


def test_start_up_freezes_once(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    first, second = (int(word) for word in out.stdout.split())
    assert first > 1000  # the modules' and types' objects
    assert second <= first  # the second app froze nothing more (frozen objects may be freed)
