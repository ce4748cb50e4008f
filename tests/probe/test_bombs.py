"""Decompression bombs and event floods: bounded memory, a hard --timeout, a clear error, exit 2.

Each bomb is served by a real loopback server; the probe runs as a user runs it, in a
subprocess whose peak RSS the kernel reports (wait4). Before the bounds: 2.1 GB for the brotli
bomb, 1.5 GB and minutes for the 32 Mi events, 1.2 GB for the flood.
"""

from __future__ import annotations

import json

import pytest

from tests.probe.bombs import BOMBS, Bomb, bomb_server, run_measured

RSS_LIMIT_MIB = 150
TIMEOUT_S = 4.0
SLACK_S = 20.0
"""Start-up, analysis and output on a loaded 2-core machine; the bench has the real figures."""


def _probe(bomb: Bomb) -> tuple[dict[str, object], float, float]:
    with bomb_server(bomb) as url:
        args = ["probe-stream", url, "--format", "json", "--timeout", str(TIMEOUT_S)]
        done = run_measured(args, kill_after=TIMEOUT_S + 2 * SLACK_S)
    assert done.returncode == 2, f"exit {done.returncode} after {done.seconds:.1f} s"
    result = json.loads(done.stdout)["results"][0]
    assert isinstance(result, dict)
    return result, done.seconds, done.rss_mib


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("brotli 1 GiB", "a line exceeded 1048576 bytes"),
        ("gzip 1 GiB", "a line exceeded 1048576 bytes"),
        ("brotli 128 MiB of comments", "the decoded body exceeds 64 MiB"),
    ],
)
def test_bombs_expanding_body_stops_with_a_protocol_error(name: str, message: str) -> None:
    result, seconds, rss = _probe(BOMBS[name]())
    assert result["error"] == {"kind": "protocol", "message": result["error"]["message"]}  # type: ignore[index]
    assert message in result["error"]["message"]  # type: ignore[index]
    assert result["decoded_bytes"] <= 64 << 20  # type: ignore[operator]
    assert rss < RSS_LIMIT_MIB, f"{rss:.0f} MiB"
    assert seconds < TIMEOUT_S + SLACK_S


@pytest.mark.parametrize("name", ["brotli 32Mi events", "plain flood"])
def test_bombs_event_flood_ends_at_the_timeout_with_counts_kept(name: str) -> None:
    result, seconds, rss = _probe(BOMBS[name]())
    error = result["error"]
    assert isinstance(error, dict)
    # the flood is fast enough to reach either bound first; both end it, with exit 2
    assert error["kind"] in ("timeout", "protocol"), error
    assert rss < RSS_LIMIT_MIB, f"{rss:.0f} MiB"
    assert seconds < TIMEOUT_S + SLACK_S
    arrivals = result["arrivals_ms"]
    assert isinstance(arrivals, list)
    assert result["arrivals_truncated"] is True
    assert result["events"] > len(arrivals) == 50_000  # type: ignore[operator]
    assert result["reads"] >= 1  # type: ignore[operator]
