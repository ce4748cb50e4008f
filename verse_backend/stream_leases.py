"""The timer behind the stores' stream leases: `store.keep_leases()` a few times a lease, for as
long as the app runs (see PostgresStore: a no-op on SQLite)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from verse_backend.outage import OutageNotice
from verse_backend.store import Store, StoreUnavailable

logger = logging.getLogger(__name__)

# A lease survives two missed renewals (a slow database, a long pause) before it expires.
RENEWALS_PER_LEASE = 3


def renewal_period_s(lease_s: float) -> float:
    return lease_s / RENEWALS_PER_LEASE


async def _renew_forever(store: Store, period_s: float) -> None:
    outage = OutageNotice(logger, "could not renew the stream lease: %s")
    while True:
        await asyncio.sleep(period_s)
        # A database hiccup must not end the timer: the next period retries.
        try:
            store.keep_leases()
        except StoreUnavailable as error:
            outage.failed(error)
        except Exception:
            logger.exception("could not renew the stream lease")
        else:
            outage.succeeded()


@asynccontextmanager
async def leases_kept(store: Store, lease_s: float) -> AsyncIterator[None]:
    """Renew (and reap) every `renewal_period_s(lease_s)` while the block runs; the store did it
    once already when it opened."""
    task = asyncio.create_task(_renew_forever(store, renewal_period_s(lease_s)))
    try:
        yield
    finally:
        task.cancel()
        # wait(), not `await task`: the task's CancelledError is not ours to raise or swallow.
        await asyncio.wait([task])
