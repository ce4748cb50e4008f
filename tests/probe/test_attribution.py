"""--direct: the hop that holds the stream is named, with the latency the hops add."""

from __future__ import annotations

import pytest

from tests.probe.records import record_from_reads, steady
from versectl.probe.analysis import analyze
from versectl.probe.attribution import attribute
from versectl.probe.record import ProbeFailure


def test_attribution_streams_direct_buffered_through_proxy_names_nginx() -> None:
    direct = record_from_reads(steady(40, 25.0))
    proxied = record_from_reads([(1030.0, 40)], headers_ms=1030.0)
    proxied.headers["content-encoding"] = "gzip"
    proxied.headers["cf-ray"] = "8a-AMS"
    result = attribute([analyze(proxied)], [analyze(direct)])
    assert result.hop == "proxy"
    assert result.summary.startswith("streams at the backend, buffered after it: look at nginx")
    assert "gzip" in result.summary and "Cloudflare seen" in result.summary
    assert result.added_ttft_ms == pytest.approx(1000.0)
    # token i arrives at 1030 through the proxy and at 30 + 25 i directly
    assert result.added_ms_per_token == pytest.approx(1000.0 - 25 * 19.5)


def test_attribution_both_streaming_reports_added_latency() -> None:
    direct = record_from_reads(steady(40, 25.0, first_ms=30.0))
    proxied = record_from_reads(steady(40, 25.0, first_ms=32.0))
    result = attribute([analyze(proxied)], [analyze(direct)])
    assert result.hop == "none"
    assert result.added_ms_per_token == pytest.approx(2.0)
    assert "+2.0 ms per token" in result.summary


def test_attribution_backend_that_does_not_stream_is_blamed() -> None:
    direct = record_from_reads([(900.0, 40)])
    proxied = record_from_reads([(905.0, 40)])
    result = attribute([analyze(proxied)], [analyze(direct)])
    assert result.hop == "backend" and "fix the app" in result.summary


def test_attribution_unreachable_backend_is_unknown() -> None:
    direct = record_from_reads([], done=False, error=ProbeFailure("connect", "refused"))
    proxied = record_from_reads(steady(40, 25.0))
    result = attribute([analyze(proxied)], [analyze(direct)])
    assert result.hop == "unknown" and "refused" in result.summary


def test_attribution_proxy_error_while_backend_streams() -> None:
    direct = record_from_reads(steady(40, 25.0))
    proxied = record_from_reads([], done=False, error=ProbeFailure("http", "HTTP 502"))
    result = attribute([analyze(proxied)], [analyze(direct)])
    assert result.hop == "proxy" and "502" in result.summary
