"""versectl: measure and fix SSE streaming of LLM chat apps behind nginx."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("versectl")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"
