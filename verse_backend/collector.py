"""The garbage collector's settings for a server of long streams, set once per process (the
collector is the process's; tests start many apps in one).

A stream's objects live as long as the stream and go by reference counting when it ends
(tests/backend/test_collector.py pins that a stream leaves no reference cycle). A full
collection then finds next to nothing, yet scans every open stream: with 500 open, each took
80-200 ms, a pause in every stream's token flow (gc.callbacks, bench/backend_load.py).
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 100
"""Middle-generation collections between two full ones (Python's default is 10). With 500
streams churning, full collections went from about two per three-second run to one in three
runs; cyclic garbage from elsewhere waits at most this many middle collections."""

_prepared = False


def prepare_collector() -> None:
    """Collect, then freeze what exists at the first start-up (modules, the app, the SDK's
    types, which live as long as the process) out of the collector's reach, and space the
    full collections out."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
