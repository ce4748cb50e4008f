"""Re-export: tests wait for another process's state the same way the demo does."""

from __future__ import annotations

from versectl.demo.waiting import wait_until

__all__ = ["wait_until"]
