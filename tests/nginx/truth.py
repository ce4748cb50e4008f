"""The ground-truth matrix: /api location configs x backends x clients through a real nginx.

Each row is an nginx site; each backend (standards-conforming, conforming without
Cache-Control, uvicorn-like, and the real verse_backend when given) gets its own nginx running
that site, and each client (identity, gzip) streams a chat request through it. The outcome per
row is compared with `check nginx` on the same site file by tests/e2e/test_check_truth.py.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.nginx.streaming import Reading, read_stream, read_stream_curl_h2, verdict
from tests.support.nginx import NginxServer, running_nginx
from tests.support.scripted_server import (
    SSE_HEADERS,
    UVICORN_LIKE_HEADERS,
    Plan,
    RecordedRequest,
    ScriptedServer,
    Step,
    scripted_server,
    sse_tokens,
)

EVENTS = 20
GAP = 0.04
SILENCE = 3.0
"""The silent backend's pause: longer than the short proxy_read_timeout rows (1s)."""

BARE_HEADERS = (("Content-Type", "text/event-stream"),)


@dataclass(frozen=True)
class Row:
    """One nginx config under test. `location` is the body of `location /api {}` after the
    proxy_pass line; `http` goes at http level, `server` at server level. `{cache}` in any of
    them is replaced by a cache directory."""

    name: str
    location: str
    http: str = ""
    location_args: str = "/api"
    server: str = ""
    listen_extra: str = ""
    extra_locations: str = ""
    silent: bool = False
    repeat: bool = False
    """Send a second request after the first: a cache answering it shows up as `cached`."""
    heartbeat: float = 15.0
    note: str = ""
    """What the row shows, for the matrix's reader."""

    def site(self, backend_port: int, cache_dir: Path) -> str:
        text = (
            f"{self.http}\n"
            f"server {{\n    listen 127.0.0.1:@PORT@{self.listen_extra};\n    {self.server}\n"
            f"    location {self.location_args} {{\n"
            f"        proxy_pass http://127.0.0.1:{backend_port};\n"
            f"        {self.location}\n    }}\n{self.extra_locations}}}\n"
        )
        return text.replace("{cache}", str(cache_dir)).replace("{port}", str(backend_port))

    @property
    def slug(self) -> str:
        """The name as a path component (nginx cannot take spaces in its prefix)."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    @property
    def h2(self) -> bool:
        return "http2" in self.listen_extra


@dataclass
class Outcome:
    """What one client saw through one backend: a verdict and the evidence."""

    backend: str
    client: str
    verdict: str
    reads: int
    detail: str = ""


@dataclass
class RowResult:
    row: Row
    site: Path
    """The site file of the first scripted backend's nginx: what `check nginx` reads."""
    outcomes: list[Outcome] = field(default_factory=list)

    def verdicts(self) -> set[str]:
        return {o.verdict for o in self.outcomes}


def scripted_plan(kind: str, silent: bool) -> Callable[[RecordedRequest], Plan]:
    steps = sse_tokens(EVENTS, GAP)
    if silent:
        steps = [
            *sse_tokens(3, GAP, done=False),
            Step(SILENCE, b": silence ended\n\n"),
            *sse_tokens(3, GAP),
        ]

    def plan(request: RecordedRequest) -> Plan:
        # each answer names the request it answers: a cached answer is then recognisable
        marker = Step(0.0, b": answer to " + request.body[:60] + b"\n\n")
        headers = {
            "conforming": SSE_HEADERS,
            "bare": BARE_HEADERS,
            "uvicorn-like": UVICORN_LIKE_HEADERS,
        }[kind]
        framing = "chunked" if kind == "uvicorn-like" else "auto"
        return Plan([marker, *steps], headers=headers, framing=framing)

    return plan


SCRIPTED = ("conforming", "bare", "uvicorn-like")


@dataclass
class VerseBackend:
    """A running verse_backend (simulated model)."""

    url: str

    def login(self) -> str:
        """A fresh session cookie: one per stream, so per-session stream limits never bite."""
        response = httpx.post(f"{self.url}/api/session", json={"password": "x"}, timeout=10)
        response.raise_for_status()
        return str(response.cookies["verse_session"])


def run_row(row: Row, tmp: Path, verse: VerseBackend | None) -> RowResult:
    """Run every backend x client of `row` concurrently; return their outcomes."""
    result = RowResult(row, tmp / f"{row.slug}-{SCRIPTED[0]}" / "site.conf")
    cache = tmp / f"cache-{row.slug}"
    cache.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        jobs: list[Callable[[], list[Outcome]]] = []
        for kind in SCRIPTED:
            backend = stack.enter_context(scripted_server(scripted_plan(kind, row.silent)))
            server = stack.enter_context(
                running_nginx(tmp / f"{row.slug}-{kind}", row.site(backend.port, cache))
            )
            for gzip in (False, True):
                jobs.append(_scripted_job(row, kind, backend, server, gzip))
        if verse is not None and not row.silent:
            port = int(verse.url.rsplit(":", 1)[1])
            server = stack.enter_context(
                running_nginx(tmp / f"{row.slug}-verse", row.site(port, cache))
            )
            for gzip in (False, True):
                jobs.append(_verse_job(row, verse, server, gzip))
        for outcomes in _run_all(jobs):
            result.outcomes += outcomes
    return result


def _run_all(jobs: list[Callable[[], list[Outcome]]]) -> Iterator[list[Outcome]]:
    results: list[list[Outcome]] = [[] for _ in jobs]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            results[index] = jobs[index]()
        except BaseException as exc:  # re-raised in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    yield from results


def _client(gzip: bool) -> str:
    return "gzip" if gzip else "identity"


def _read(row: Row, url: str, gzip: bool, body: bytes, cookie: str | None = None) -> Reading:
    if row.h2:
        return read_stream_curl_h2(url, gzip=gzip, body=body, cookie=cookie)
    return read_stream(url, gzip=gzip, body=body, cookie=cookie)


def _scripted_job(
    row: Row, kind: str, backend: ScriptedServer, server: NginxServer, gzip: bool
) -> Callable[[], list[Outcome]]:
    def job() -> list[Outcome]:
        outcomes = []
        for attempt in range(2 if row.repeat else 1):
            tag = f"{kind}-{_client(gzip)}-{attempt}"
            body = json.dumps({"message": tag, "insight_id": 1}).encode()
            reading = _read(row, f"{server.url}/api/chat/message", gzip, body)
            sent = [
                ns / 1e9
                for request, sent_ns in list(backend.exchanges)
                if request.body == body
                for ns in sent_ns
            ]
            if not sent and reading.complete and b"answer to" in reading_text(reading):
                outcomes.append(
                    Outcome(
                        kind,
                        _client(gzip),
                        "cached",
                        len(reading.times),
                        "answered without asking the backend",
                    )
                )
                continue
            found = verdict(reading, sent[1:])  # sent[0] is the marker, sent with the headers
            outcomes.append(
                Outcome(kind, _client(gzip), found, len(reading.times), reading.error or "")
            )
        return outcomes

    return job


def _verse_job(
    row: Row, verse: VerseBackend, server: NginxServer, gzip: bool
) -> Callable[[], list[Outcome]]:
    def job() -> list[Outcome]:
        outcomes = []
        for attempt in range(2 if row.repeat else 1):
            body = json.dumps({"message": f"verse {attempt} {gzip}", "insight_id": 1}).encode()
            start = time.perf_counter()
            reading = _read(row, f"{server.url}/api/chat/message", gzip, body, verse.login())
            found = _client_side_verdict(reading, start)
            outcomes.append(
                Outcome(
                    "verse_backend",
                    _client(gzip),
                    found,
                    len(reading.times),
                    reading.error or f"spread {reading.spread:.2f}s",
                )
            )
        return outcomes

    return job


def _client_side_verdict(reading: Reading, start: float) -> str:
    """Without the backend's send times (another process): held when the body came in a few
    reads at once, streams when many reads spread over at least 0.3 s (the simulated answer
    takes about 0.8 s at 8 ms per token; a held one arrives in one or two reads)."""
    del start  # the time to the first byte depends on the backend's load, not on nginx
    if not reading.complete:
        return "cut" if reading.times else "error"
    if len(reading.times) <= 3 or reading.spread <= 0.1:
        return "held"
    return "streams" if len(reading.times) >= 10 and reading.spread >= 0.3 else "partial"


def reading_text(reading: Reading) -> bytes:
    if reading.content_encoding == "gzip":
        import zlib

        try:
            return zlib.decompress(reading.body, 16 + zlib.MAX_WBITS)
        except zlib.error:
            return b""
    return reading.body


def run_rows(
    rows: list[Row], tmp: Path, verse: VerseBackend | None, parallel: int = 4
) -> dict[str, RowResult]:
    """Run rows `parallel` at a time (each row's streams are independent: one nginx and one
    backend per row and backend kind), the slow silent rows first."""
    ordered = sorted(rows, key=lambda r: (not r.silent, not r.repeat))
    results: dict[str, RowResult] = {}
    for start in range(0, len(ordered), parallel):
        batch = ordered[start : start + parallel]
        jobs: list[Callable[[], list[Outcome]]] = []
        for row in batch:
            jobs.append(_row_job(row, tmp, verse, results))
        for _ in _run_all(jobs):
            pass
    return results


def _row_job(
    row: Row, tmp: Path, verse: VerseBackend | None, results: dict[str, RowResult]
) -> Callable[[], list[Outcome]]:
    def job() -> list[Outcome]:
        results[row.name] = run_row(row, tmp, verse)
        return results[row.name].outcomes

    return job
