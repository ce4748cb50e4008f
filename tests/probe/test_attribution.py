"""--direct: the hop that holds the stream is named, with the latency the hops add; and a hold
that depends on the protocol (HTTP/2 streams, HTTP/1.1 over TLS held) names that layer."""

from __future__ import annotations

import pytest

from tests.probe.records import record_from_reads, steady
from versectl.probe.analysis import analyze
from versectl.probe.attribution import attribute, protocol_hold
from versectl.probe.record import ProbeFailure
from versectl.probe.verdict import Verdict


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


def test_attribution_protocol_hold_names_the_tls_buffer_for_http11_over_tls() -> None:
    verdicts = {"h2": Verdict.streaming, "http1.1+tls": Verdict.buffered}
    hold = protocol_hold("http1.1+tls", verdicts)
    assert hold is not None and hold.clients == ("http1.1+tls",)
    assert hold.summary.startswith("held for HTTP/1.1 over TLS only: nginx's TLS buffer")
    assert "ssl_buffer_size" in hold.summary and "proxy_buffering" in hold.summary
    assert protocol_hold("h2", verdicts) is None  # the streaming one is not held


def test_attribution_protocol_hold_the_reverse_and_when_there_is_none() -> None:
    reverse = protocol_hold("h2", {"h2": Verdict.partial, "http1.1+tls": Verdict.streaming})
    assert reverse is not None and reverse.summary.startswith("held for HTTP/2 only")
    both = {"h2": Verdict.buffered, "http1.1+tls": Verdict.buffered}
    assert protocol_hold("http1.1+tls", both) is None  # held for everyone: not the protocol
    assert protocol_hold("http1.1+tls", {"http1.1+tls": Verdict.buffered}) is None


def test_attribution_with_direct_and_a_protocol_hold_names_the_tls_buffer() -> None:
    direct = record_from_reads(steady(40, 25.0))
    proxied = record_from_reads([(1030.0, 40)], headers_ms=1030.0)
    proxied.url = "https://test/api/chat/message"
    hold = protocol_hold("http1.1+tls", {"h2": Verdict.streaming, "http1.1+tls": Verdict.buffered})
    result = attribute([analyze(proxied)], [analyze(direct)], hold)
    assert result.hop == "proxy" and result.clients == ("http1.1+tls",)
    assert result.summary.startswith(
        "streams at the backend, buffered after it: held for HTTP/1.1 over TLS only"
    )
    # without the HTTP/2 comparison, held headers over TLS name the TLS buffer as a suspect
    alone = attribute([analyze(proxied)], [analyze(direct)])
    assert "TLS buffer (ssl_buffer_size)" in alone.summary and alone.clients == ()
