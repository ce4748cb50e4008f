"""Failed logins per client address: a token bucket each, in a bounded LRU, so guessing the
password is slow and the memory stays small whatever addresses an attacker uses."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_ADDRESSES = 4096
"""Addresses remembered; the least recently seen is forgotten first."""
IPV6_PREFIX = 64
"""One IPv6 client usually owns a whole /64: count it as one address."""


def client_key(host: str | None) -> str:
    """The bucket an address counts against (its /64 for IPv6)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class LoginLimiter:
    """`burst` failed attempts at once, then `per_minute` more per minute, per address.

    While an address has no token left every attempt is refused (429), the right password
    too, or the answer would tell a guesser which one was right. A success refills only the
    bucket of the address it came from.
    """

    def __init__(
        self,
        *,
        burst: int,
        per_minute: float,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = burst
        self.rate_per_s = per_minute / 60
        self.max_addresses = max_addresses
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            if len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate_per_s
            )
            bucket.updated = now
        return bucket

    def retry_after(self, key: str) -> int | None:
        """Whole seconds until `key` may try again, or None when it may now."""
        bucket = self._bucket(key)
        if bucket.tokens >= 1:
            return None
        if self.rate_per_s <= 0:
            return 3600
        return max(1, math.ceil((1 - bucket.tokens) / self.rate_per_s))

    def failed(self, key: str) -> None:
        bucket = self._bucket(key)
        bucket.tokens = max(0.0, bucket.tokens - 1)

    def succeeded(self, key: str) -> None:
        self._buckets.pop(key, None)

    def __len__(self) -> int:
        return len(self._buckets)
