"""Measure, over a real socket, whether a response streams through nginx or is held, cut, or
answered from a cache: the verdicts the ground-truth matrix compares `check nginx` with."""

from __future__ import annotations

import bisect
import json
import ssl
import time
from dataclasses import dataclass, field

import httpx

STREAM_EVENTS = 20
STREAM_GAP = 0.04
"""The backend's token pacing: 20 events over 0.8 s."""


@dataclass
class Reading:
    """What a client saw: when each body read arrived (seconds after the request was sent)."""

    status: int | None = None
    times: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    complete: bool = False
    error: str | None = None
    content_encoding: str | None = None
    body: bytes = b""
    http_version: str | None = None
    location: str | None = None
    """The Location header (a redirect's target)."""

    @property
    def spread(self) -> float:
        return self.times[-1] - self.times[0] if self.times else 0.0


TIMELY = 0.5
"""Seconds within which an event must reach the client to count as streamed: far above
loopback latency and a busy machine's scheduling stalls, far below a held answer's wait."""


def verdict(reading: Reading, sent: list[float]) -> str:
    """streams | held | cut | partial | error, given when the backend sent each event
    (`sent`: perf_counter seconds, the clock `reading.times` uses).

    Held: no body byte arrived before the backend had sent all but its last 10 %. Streams: at
    least half of the events were followed by a read within TIMELY seconds - a body released
    in bursts (a 1k TLS buffer filling every ~2 s in the ssl_buffer_size rows) cannot do that,
    a held one even less, while a busy machine's stalls would have to last half the answer.
    """
    if reading.error is not None and not reading.times:
        return "error"
    if not reading.complete:
        return "cut"
    if not reading.times or len(sent) < 2:
        return "error"
    produce = sent[-1] - sent[0]
    if reading.times[0] >= sent[-1] - 0.1 * produce:
        return "held"
    times = sorted(reading.times)
    timely = 0
    for moment in sent:
        index = bisect.bisect_left(times, moment)
        if index < len(times) and times[index] <= moment + TIMELY:
            timely += 1
    return "streams" if 2 * timely >= len(sent) else "partial"


def read_stream(
    url: str,
    *,
    gzip: bool,
    method: str = "POST",
    body: bytes | None = None,
    cookie: str | None = None,
    timeout: float = 20,
    transport: str = "http1.1",
    verify: ssl.SSLContext | bool = True,
    host: str | None = None,
) -> Reading:
    """One request with httpx; body reads timed with iter_raw (no decoding, no buffering).

    `transport` is a client kind: "http1.1" (plain), "http1.1+tls" (ALPN offers only
    http/1.1, as SDKs do) or "h2" (ALPN h2, as browsers do: the reading is an error when the
    server answered with another protocol). Over HTTP/2 each read is one DATA frame. `host`:
    the Host header and the TLS SNI a browser for that name would send (the URL stays on
    127.0.0.1; `verify` must then not check the name).
    """
    # httpx asks for gzip by default: say "identity" explicitly for the plain client
    headers = {
        "Accept-Encoding": "gzip" if gzip else "identity",
        "Content-Type": "application/json",
    }
    if cookie is not None:
        headers["Cookie"] = f"verse_session={cookie}"
    extensions = {}
    if host is not None:
        headers["Host"] = host
        extensions["sni_hostname"] = host
    payload = body if body is not None else json.dumps({"message": "hi", "insight_id": 1}).encode()
    h2 = transport == "h2"
    reading = Reading()
    try:
        with (
            httpx.Client(timeout=timeout, verify=verify, http1=not h2, http2=h2) as client,
            client.stream(
                method,
                url,
                headers=headers,
                content=payload if method == "POST" else None,
                extensions=extensions,
            ) as response,
        ):
            reading.status = response.status_code
            reading.content_encoding = response.headers.get("content-encoding")
            reading.http_version = response.http_version
            reading.location = response.headers.get("location")
            chunks = []
            for chunk in response.iter_raw():
                reading.times.append(time.perf_counter())
                reading.sizes.append(len(chunk))
                chunks.append(chunk)
            reading.body = b"".join(chunks)
            reading.complete = True
    except httpx.HTTPError as exc:
        reading.error = f"{type(exc).__name__}: {exc}"
    expected = "HTTP/2" if h2 else "HTTP/1.1"
    if reading.http_version is not None and reading.http_version != expected:
        reading.error = f"spoke {reading.http_version}, not {expected}"
        reading.complete = False
        reading.times.clear()
    return reading
