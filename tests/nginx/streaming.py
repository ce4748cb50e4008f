"""Measure, over a real socket, whether a response streams through nginx or is held, cut, or
answered from a cache: the verdicts the ground-truth matrix compares `check nginx` with."""

from __future__ import annotations

import json
import subprocess
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

    @property
    def spread(self) -> float:
        return self.times[-1] - self.times[0] if self.times else 0.0


def verdict(reading: Reading, sent: list[float]) -> str:
    """streams | held | cut | partial | error, given when the backend sent each event
    (`sent`: perf_counter seconds, the clock `reading.times` uses).

    Held: no body byte arrived before the backend had sent all but its last 10 %. Streams: at
    least half as many reads as events, spread over at least half of the backend's sending
    time - a held body cannot do that, however late a busy machine schedules the reader.
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
    if len(reading.times) >= len(sent) // 2 and reading.spread >= 0.5 * produce:
        return "streams"
    return "partial"


def read_stream(
    url: str,
    *,
    gzip: bool,
    method: str = "POST",
    body: bytes | None = None,
    cookie: str | None = None,
    timeout: float = 20,
) -> Reading:
    """One request with httpx; body reads timed with iter_raw (no decoding, no buffering)."""
    # httpx asks for gzip by default: say "identity" explicitly for the plain client
    headers = {
        "Accept-Encoding": "gzip" if gzip else "identity",
        "Content-Type": "application/json",
    }
    if cookie is not None:
        headers["Cookie"] = f"verse_session={cookie}"
    payload = body if body is not None else json.dumps({"message": "hi", "insight_id": 1}).encode()
    reading = Reading()
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream(
                method, url, headers=headers, content=payload if method == "POST" else None
            ) as response,
        ):
            reading.status = response.status_code
            reading.content_encoding = response.headers.get("content-encoding")
            chunks = []
            for chunk in response.iter_raw():
                reading.times.append(time.perf_counter())
                reading.sizes.append(len(chunk))
                chunks.append(chunk)
            reading.body = b"".join(chunks)
            reading.complete = True
    except httpx.HTTPError as exc:
        reading.error = f"{type(exc).__name__}: {exc}"
    return reading


def read_stream_curl_h2(
    url: str,
    *,
    gzip: bool,
    body: bytes | None = None,
    cookie: str | None = None,
    timeout: float = 20,
) -> Reading:
    """The same over HTTP/2 with prior knowledge (curl; httpx would need the h2 package)."""
    argv = [
        "curl",
        "-sS",
        "-N",
        "--http2-prior-knowledge",
        "-X",
        "POST",
        "-o",
        "-",
        "-w",
        "\n%{http_code} %{http_version}",
        "--max-time",
        str(timeout),
        "-H",
        "Content-Type: application/json",
        "-H",
        f"Accept-Encoding: {'gzip' if gzip else 'identity'}",
        "--data-binary",
        (body or b'{"message": "hi", "insight_id": 1}').decode(),
        url,
    ]
    if cookie is not None:
        argv[1:1] = ["-H", f"Cookie: verse_session={cookie}"]
    reading = Reading()
    chunks = []
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        while chunk := process.stdout.read1(65536):  # returns as soon as any bytes arrived
            reading.times.append(time.perf_counter())
            reading.sizes.append(len(chunk))
            chunks.append(chunk)
        errors = process.stderr.read().decode(errors="replace")
    data = b"".join(chunks)
    body, _, trailer = data.rpartition(b"\n")
    status, _, version = trailer.decode().partition(" ")
    reading.status = int(status) if status.isdigit() else None
    reading.body = body
    reading.complete = process.returncode == 0
    if process.returncode != 0:
        reading.error = f"curl exit {process.returncode}: {errors.strip()}"
    if version != "2":
        reading.error = f"not HTTP/2 (curl says {version!r})"
    if reading.times:  # the last read carries the -w trailer, not body
        tail = len(trailer) + 1
        if reading.sizes[-1] <= tail:
            reading.times.pop()
            reading.sizes.pop()
    return reading
