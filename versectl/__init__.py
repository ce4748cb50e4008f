"""versectl: measure and fix SSE streaming of LLM chat apps behind nginx."""

from __future__ import annotations

# The one place the version lives (pyproject reads it): importlib.metadata costs ~40 ms at
# every CLI start.
__version__ = "0.1.0"
