"""Rule families: what kind of failure a rule's finding explains. Doctor, the advice and the
truth test (tests/e2e/test_check_truth.py) pick rules by family, never by a list of names."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    """What a rule's finding predicts for the chat stream (each is measured in TRUTH_MATRIX.md)."""

    buffering = "buffering"
    """the stream is held or arrives in bursts (measured: held/partial)."""
    timeout = "timeout"
    """the stream is cut mid-answer (measured: cut)."""
    cache = "cache"
    """a later request is answered from a cache with an old reply; the stream itself streams
    (measured: "cache for POST" streams over HTTP/1.1 and h2, and is cached)."""
    routing = "routing"
    """the request does not reach the backend, or reaches it with the wrong headers."""
    machine = "machine"
    """the running nginx differs from the config on disk."""
