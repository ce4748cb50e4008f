"""Start-up objects are frozen out of the collector's reach once per process, after a collection
(so no garbage is kept for good)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, gc, sys
from verse_backend.app import create_app
from verse_backend.settings import Settings

class Cycle:
    def __init__(self): self.me = self

async def start(db):
    app = create_app(Settings(db=db, provider="simulated"))
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()

Cycle()  # garbage in a cycle, made before start-up
first = asyncio.run(start(sys.argv[1] + "/a.sqlite3"))
frozen_garbage = sum(isinstance(o, Cycle) for o in gc.get_objects())
second = asyncio.run(start(sys.argv[1] + "/b.sqlite3"))
print(first, second, frozen_garbage)
"""


def test_start_up_freezes_once_after_collecting(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    first, second, frozen_garbage = (int(word) for word in out.stdout.split())
    assert first > 1000  # the modules' and types' objects
    assert second <= first  # the second app froze nothing more (frozen objects may be freed)
    assert frozen_garbage == 0
