"""LoginLimiter: token buckets per address, refilled over time, in bounded memory."""

from __future__ import annotations

from verse_backend.login_limiter import LoginLimiter, client_key


def test_limiter_refills_and_says_when_to_retry() -> None:
    now = [0.0]
    limiter = LoginLimiter(burst=3, per_minute=6, clock=lambda: now[0])  # one per 10 s
    for _ in range(3):
        assert limiter.retry_after("a") is None
        limiter.failed("a")
    assert limiter.retry_after("a") == 10
    now[0] = 4.0
    assert limiter.retry_after("a") == 6
    now[0] = 10.0
    assert limiter.retry_after("a") is None  # one token back
    limiter.failed("a")
    assert limiter.retry_after("a") == 10


def test_limiter_success_resets_only_its_own_address() -> None:
    limiter = LoginLimiter(burst=1, per_minute=0, clock=lambda: 0.0)
    limiter.failed("a")
    limiter.failed("b")
    limiter.succeeded("b")
    assert limiter.retry_after("a") is not None
    assert limiter.retry_after("b") is None


def test_limiter_memory_is_bounded() -> None:
    limiter = LoginLimiter(burst=1, per_minute=1, max_addresses=100)
    for index in range(10_000):
        limiter.failed(f"10.0.{index // 256}.{index % 256}")
    assert len(limiter) == 100


def test_client_key_groups_an_ipv6_slash_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("192.0.2.1") != client_key("192.0.2.2")
    assert client_key(None) == "unknown"
