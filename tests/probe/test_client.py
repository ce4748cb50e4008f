"""The client against real sockets: per-read timing, framing, encodings and hostile servers."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import zlib

from tests.probe.servers import closed_port, raw_server
from tests.support.cpu_wait import excused_merges, excused_ms, runqueue_wait_ns
from tests.support.scripted_server import (
    SSE_HEADERS,
    Plan,
    RecordedRequest,
    Step,
    scripted_server,
    sse_tokens,
)
from versectl.probe.client import probe_stream
from versectl.probe.record import ProbeRequest, StreamRecord


def _probe(url: str, **kwargs: object) -> StreamRecord:
    return asyncio.run(probe_stream(ProbeRequest(url=url, **kwargs)))  # type: ignore[arg-type]


def test_client_stamps_each_event_close_to_when_the_server_sent_it() -> None:
    gap = 0.03
    with scripted_server(Plan(sse_tokens(30, gap))) as server:
        waited = runqueue_wait_ns()
        record = _probe(server.url + "/api/x")
        waited = runqueue_wait_ns() - waited
        sent = server.sent_ns[0]
    assert record.error is None and record.status == 200
    assert len(record.arrivals) == 31
    # the 30 token events (the `done` event rides with the last one); 2 ms (the bench measures
    # the real figure) plus the CPU time a loaded machine took from us per event, but never near
    # a whole gap: the error of a stamp from the wrong read
    measured = [b.t_ns - a.t_ns for a, b in itertools.pairwise(record.arrivals[:30])]
    truth = [b - a for a, b in itertools.pairwise(sent[:30])]
    errors_ms = [abs(m - t) / 1e6 for m, t in zip(measured, truth, strict=True)]
    assert statistics.median(errors_ms) < excused_ms(2.0, waited, 30, gap), errors_ms
    # each event arrived in its own read, about when the server wrote it (same clock); two
    # share a read only when the machine kept us off the CPU for a gap (a held stream: 1 read)
    assert len(record.read_ns) >= 30 - excused_merges(waited, gap, 30 // 3), waited
    latency_ms = [abs(a.t_ns - s) / 1e6 for a, s in zip(record.arrivals, sent, strict=False)]
    assert statistics.median(latency_ms) < excused_ms(2.0, waited, 30, gap), latency_ms


def test_client_parses_crlf_multiline_data_and_counts_comments() -> None:
    body = [
        Step(0, b": hello\r\n\r\nevent: token\r\ndata: a\r\ndata: b\r\n\r\n"),
        Step(0.01, b"data: c\r"),
        Step(0.01, b"\n\r\n"),
    ]
    with scripted_server(Plan(body)) as server:
        record = _probe(server.url)
    assert [(a.event, a.data) for a in record.arrivals] == [("token", "a\nb"), ("message", "c")]
    assert record.comments == 1
    assert record.arrivals[1].read == len(record.read_ns) - 1  # completed by the last read


def test_client_event_split_across_reads_is_stamped_with_the_completing_read() -> None:
    plan = Plan([Step(0, b"data: hel"), Step(0.1, b"lo\n"), Step(0.1, b"\ndata: x\n\n")])
    with scripted_server(plan) as server:
        record = _probe(server.url)
    first, second = record.arrivals
    assert first.data == "hello" and second.data == "x"
    assert first.t_ns == second.t_ns == record.read_ns[-1]  # the blank line completed both
    assert first.t_ns - record.read_ns[0] >= 150_000_000  # not the read that began it


def test_client_close_delimited_http10_style_body_is_read_to_the_end() -> None:
    with scripted_server(Plan(sse_tokens(5, 0.01), framing="close")) as server:
        record = _probe(server.url)
    assert record.error is None and len(record.arrivals) == 6


def test_client_headers_then_nothing_times_out_with_events_so_far() -> None:
    plan = Plan(sse_tokens(3, 0.01, done=False), hang_after=True)
    with scripted_server(plan) as server:
        record = _probe(server.url, timeout=0.5)
        assert server.closed.wait(5), "the probe must close the connection"
    assert record.error is not None and record.error.kind == "timeout"
    assert "3 events so far" in record.error.message
    assert len(record.arrivals) == 3 and record.status == 200


def test_client_timeout_before_headers() -> None:
    with scripted_server(Plan(sse_tokens(1, 0), delay_headers=5)) as server:
        record = _probe(server.url, timeout=0.3)
    assert record.error is not None and record.error.kind == "timeout"
    assert record.status is None and "no response headers" in record.error.message


def test_client_non_200_is_an_http_error_with_the_body_excerpt() -> None:
    plan = Plan(
        [Step(0, b'{"detail": "no valid session"}')],
        status=401,
        headers=(("Content-Type", "application/json"),),
        framing="length",
    )
    with scripted_server(plan) as server:
        record = _probe(server.url)
    assert record.error is not None and record.error.kind == "http"
    assert "401" in record.error.message and "no valid session" in record.error.message


def test_client_not_an_event_stream() -> None:
    plan = Plan([Step(0, b"<html>hi</html>")], headers=(("Content-Type", "text/html"),))
    with scripted_server(plan) as server:
        record = _probe(server.url)
    assert record.error is not None and record.error.kind == "not_sse"
    assert "text/html" in record.error.message


def test_client_endless_line_is_a_protocol_error_not_a_memory_leak() -> None:
    plan = Plan([Step(0, b"data: " + b"x" * (3 << 20))], hang_after=True)
    with scripted_server(plan) as server:
        record = _probe(server.url, timeout=30)
    assert record.error is not None and record.error.kind == "protocol"
    assert "line exceeded" in record.error.message


def test_client_invalid_utf8_is_replaced_and_counted() -> None:
    plan = Plan([Step(0, b"data: caf\xe9\n\n"), Step(0.01, b"data: ok\n\n")])
    with scripted_server(plan) as server:
        record = _probe(server.url)
    assert record.error is None
    assert [a.data for a in record.arrivals] == ["caf\ufffd", "ok"]
    assert record.invalid_utf8 == 1


def test_client_gzip_encoded_stream_is_decoded_event_by_event() -> None:
    compressor = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    steps = [
        Step(0.02, compressor.compress(b"data: %d\n\n" % i) + compressor.flush(zlib.Z_SYNC_FLUSH))
        for i in range(10)
    ]
    steps.append(Step(0, compressor.flush()))
    plan = Plan(steps, headers=(*SSE_HEADERS, ("Content-Encoding", "gzip")))
    with scripted_server(plan) as server:
        record = _probe(server.url)
        asked = server.requests[0].headers["accept-encoding"]
    assert "gzip" in asked and "br" in asked
    assert record.error is None and record.headers["content-encoding"] == "gzip"
    assert [a.data for a in record.arrivals] == [str(i) for i in range(10)]
    # decoded as each read came: a decoder that waited for the end would put every event in the
    # last read; a loaded machine may merge a few of the 20 ms reads, never most of them
    assert len({a.read for a in record.arrivals}) >= 5


def test_client_connection_cut_mid_body_keeps_events() -> None:
    with scripted_server(Plan(sse_tokens(4, 0.01, done=False), close_mid_body=True)) as server:
        record = _probe(server.url)
    assert record.error is not None and record.error.kind == "protocol"
    assert len(record.arrivals) == 4


def test_client_connection_refused() -> None:
    record = _probe(f"http://127.0.0.1:{closed_port()}/api/x")
    assert record.error is not None and record.error.kind == "connect"
    assert "refused" in record.error.message


def test_client_dns_failure() -> None:
    record = _probe("http://no-such-host.invalid/api/x", connect_timeout=3.0)
    assert record.error is not None and record.error.kind == "connect"
    # "cannot resolve" where a resolver answers; a resolver that never does hits the timeout
    assert "no-such-host.invalid" in record.error.message


def test_client_tls_to_a_plain_http_server() -> None:
    with raw_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as port:
        record = _probe(f"https://127.0.0.1:{port}/api/x")
    assert record.error is not None and record.error.kind == "tls"


def test_client_follows_and_reports_redirects_and_sends_cookies() -> None:
    def plan_for(request: RecordedRequest) -> Plan:
        if request.path == "/old":
            return Plan([], status=302, headers=(("Location", "/new"),), framing="length")
        return Plan(sse_tokens(3, 0.01))

    with scripted_server(plan_for) as server:
        record = _probe(server.url + "/old", cookies=(("verse_session", "s3cret"),))
        final = server.requests[-1]
    assert [(r.status, r.location) for r in record.redirects] == [(302, "/new")]
    assert record.final_url == server.url + "/new"
    assert final.headers.get("cookie") == "verse_session=s3cret"
    assert len(record.arrivals) == 4
