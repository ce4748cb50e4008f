"""The ground-truth matrix: /api location configs x backends x transports x clients through a
real nginx.

Each row is an nginx site with three listeners (plain HTTP/1.1, TLS, TLS + HTTP/2); each backend
(standards-conforming, conforming without Cache-Control, uvicorn-like, and the real
verse_backend when given) gets its own nginx running that site, and over every transport two
clients (identity, gzip) stream a chat request through it; a real Chromium over HTTP/2 and one
with HTTP/2 disabled read it with fetch (conforming and verse_backend only, to bound the time).
tests/e2e/test_check_truth.py compares the outcome per row and transport with `check nginx`.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.nginx.streaming import Reading, read_stream, verdict
from tests.support.browser import PROBE_LOCATION, Browser
from tests.support.scripted_server import (
    SSE_HEADERS,
    UVICORN_LIKE_HEADERS,
    Framing,
    Plan,
    RecordedRequest,
    ScriptedServer,
    Step,
    scripted_server,
    sse_tokens,
)
from tests.support.tls import TRANSPORTS, Listeners, TlsFiles, listen_lines, running_listeners

EVENTS = 20
GAP = 0.04
SILENCE = 3.0
"""The silent backend's pause: longer than the short proxy_read_timeout rows (1s)."""

VERSE_TOKEN_MS = 15
"""verse_backend's simulated pacing in the matrix: an answer of about 1.5 s."""
BARE_HEADERS = (("Content-Type", "text/event-stream"),)
SCRIPTED = ("conforming", "bare", "uvicorn-like")
BROWSER_BACKENDS = ("conforming", "verse_backend")
CLIENTS = ("identity", "gzip")
BROWSER = "browser"
CHAT = "/api/chat/message"


@dataclass(frozen=True)
class Row:
    """One nginx config under test. `location` is the body of `location /api {}` after the
    proxy_pass line; `http` goes at http level, `server` at server level. `{cache}` in any of
    them is replaced by a cache directory, `{port}` by the backend's port."""

    name: str
    location: str
    http: str = ""
    location_args: str = "/api"
    server: str = ""
    extra_locations: str = ""
    silent: bool = False
    repeat: bool = False
    """Send a second request after the first: a cache answering it shows up as `cached`."""
    heartbeat: float = 15.0
    events: int = EVENTS
    gap: float = GAP
    http2_directive: bool = False
    """HTTP/2 switched on with `http2 on;` (nginx 1.25.1+) instead of `listen ... http2`."""
    note: str = ""
    """What the row shows, for the matrix's reader."""

    def site(self, backend_port: int, cache_dir: Path, tls: TlsFiles) -> str:
        text = (
            f"{self.http}\n"
            f"server {{\n    {listen_lines(tls, http2_directive=self.http2_directive)}"
            f"    {self.server}\n"
            f"    location {self.location_args} {{\n"
            f"        proxy_pass http://127.0.0.1:{backend_port};\n"
            f"        {self.location}\n    }}\n{self.extra_locations}{PROBE_LOCATION}}}\n"
        )
        return text.replace("{cache}", str(cache_dir)).replace("{port}", str(backend_port))

    @property
    def slug(self) -> str:
        """The name as a path component (nginx cannot take spaces in its prefix)."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


@dataclass
class Outcome:
    """What one client saw over one transport through one backend: a verdict and the evidence."""

    backend: str
    transport: str
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

    def verdicts(self, transport: str) -> set[str]:
        return {o.verdict for o in self.outcomes if o.transport == transport}


def scripted_plan(
    kind: str, silent: bool, events: int = EVENTS, gap: float = GAP
) -> Callable[[RecordedRequest], Plan]:
    steps = sse_tokens(events, gap)
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
        framing: Framing = "chunked" if kind == "uvicorn-like" else "auto"
        return Plan([marker, *steps], headers=headers, framing=framing)

    return plan


@dataclass
class VerseBackend:
    """A running verse_backend (simulated model)."""

    url: str

    def login(self) -> str:
        """A fresh session cookie: one per stream, so per-session stream limits never bite."""
        response = httpx.post(f"{self.url}/api/session", json={"password": "x"}, timeout=10)
        response.raise_for_status()
        return str(response.cookies["verse_session"])


@dataclass(frozen=True)
class Setup:
    """What every row shares: the certificates, verse_backend, and the two browsers."""

    tls: TlsFiles
    verse: VerseBackend | None = None
    browsers: tuple[Browser, ...] = ()


Job = Callable[[], list[Outcome]]


def run_row(row: Row, tmp: Path, setup: Setup) -> RowResult:
    """Run every backend x transport x client of `row` concurrently; return their outcomes."""
    result = RowResult(row, tmp / f"{row.slug}-{SCRIPTED[0]}" / "site.conf")
    cache = tmp / f"cache-{row.slug}"
    cache.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        jobs: list[Job] = []
        for kind in SCRIPTED:
            backend = stack.enter_context(
                scripted_server(scripted_plan(kind, row.silent, row.events, row.gap))
            )
            site = row.site(backend.port, cache, setup.tls)
            listeners = stack.enter_context(running_listeners(tmp / f"{row.slug}-{kind}", site))
            for transport in TRANSPORTS:
                for client in CLIENTS:
                    jobs.append(
                        _scripted_job(row, kind, backend, listeners, transport, client, setup)
                    )
            if kind in BROWSER_BACKENDS:
                for browser in setup.browsers:
                    jobs.append(
                        _scripted_job(row, kind, backend, listeners, "", BROWSER, setup, browser)
                    )
        verse = setup.verse
        if verse is not None and not row.silent:
            port = int(verse.url.rsplit(":", 1)[1])
            site = row.site(port, cache, setup.tls)
            listeners = stack.enter_context(running_listeners(tmp / f"{row.slug}-verse", site))
            for transport in TRANSPORTS:
                for client in CLIENTS:
                    jobs.append(_verse_job(row, verse, listeners, transport, client, setup))
            for browser in setup.browsers:
                jobs.append(_verse_job(row, verse, listeners, "", BROWSER, setup, browser))
        for outcomes in run_all(jobs):
            result.outcomes += outcomes
    return result


def run_all(jobs: list[Job]) -> list[list[Outcome]]:
    """Run the jobs in threads at once (they only wait on sockets and timers)."""
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
        thread.join(timeout=90)
    if errors:
        raise errors[0]
    return results


def browser_transport(browser: Browser) -> str:
    """A browser with HTTP/2 is an `h2` client; with HTTP/2 disabled, HTTP/1.1 over TLS."""
    return "h2" if browser.http2 else "http1.1+tls"


def _read(
    listeners: Listeners,
    transport: str,
    client: str,
    body: bytes,
    setup: Setup,
    browser: Browser | None,
    verse: VerseBackend | None = None,
) -> Reading:
    if browser is not None:
        # both browsers load the page from the `ssl http2` port, as from a production :443:
        # the one with HTTP/2 disabled must negotiate http/1.1 there (its reading checks that)
        return browser.read(listeners.url("h2"), CHAT, body, login=verse is not None)
    cookie = verse.login() if verse is not None else None
    return read_stream(
        listeners.url(transport) + CHAT,
        gzip=client == "gzip",
        body=body,
        cookie=cookie,
        transport=transport,
        verify=setup.tls.client_context(),
    )


def _repeated_job(
    row: Row,
    transport: str,
    browser: Browser | None,
    attempt: Callable[[int, str], Outcome],
) -> Job:
    """A job that reads the row once (twice for `row.repeat`), one outcome a read; a browser
    job's transport is the protocol the browser negotiates."""
    if browser is not None:
        transport = browser_transport(browser)
    return lambda: [attempt(index, transport) for index in range(2 if row.repeat else 1)]


def _scripted_job(
    row: Row,
    kind: str,
    backend: ScriptedServer,
    listeners: Listeners,
    transport: str,
    client: str,
    setup: Setup,
    browser: Browser | None = None,
) -> Job:
    def attempt(index: int, transport: str) -> Outcome:
        tag = f"{kind}-{transport}-{client}-{index}"
        body = json.dumps({"message": tag, "insight_id": 1}).encode()
        reading = _read(listeners, transport, client, body, setup, browser)
        sent = [
            ns / 1e9
            for request, sent_ns in list(backend.exchanges)
            if request.body == body
            for ns in sent_ns
        ]
        if not sent and reading.complete and b"answer to" in reading_text(reading):
            return Outcome(
                kind,
                transport,
                client,
                "cached",
                len(reading.times),
                "answered without asking the backend",
            )
        found = verdict(reading, sent[1:])  # sent[0] is the marker, sent with the headers
        return Outcome(kind, transport, client, found, len(reading.times), reading.error or "")

    return _repeated_job(row, transport, browser, attempt)


def _verse_job(
    row: Row,
    verse: VerseBackend,
    listeners: Listeners,
    transport: str,
    client: str,
    setup: Setup,
    browser: Browser | None = None,
) -> Job:
    def attempt(index: int, transport: str) -> Outcome:
        message = f"verse {index} {transport} {client}"
        body = json.dumps({"message": message, "insight_id": 1}).encode()
        reading = _read(listeners, transport, client, body, setup, browser, verse)
        return Outcome(
            "verse_backend",
            transport,
            client,
            client_side_verdict(reading),
            len(reading.times),
            reading.error or f"spread {reading.spread:.2f}s",
        )

    return _repeated_job(row, transport, browser, attempt)


def client_side_verdict(reading: Reading) -> str:
    """Without the backend's send times (another process): held when the body came in a few
    reads at once (within 0.1 s of a ~1.5 s answer at VERSE_TOKEN_MS), else streams. No
    `partial` here: a busy machine that starves the backend process bunches its tokens, and
    without their send times that cannot be told from nginx releasing them in bursts."""
    if not reading.complete:
        return "cut" if reading.times else "error"
    if len(reading.times) <= 3 or reading.spread <= 0.1:
        return "held"
    return "streams"


def reading_text(reading: Reading) -> bytes:
    if reading.content_encoding == "gzip":
        try:
            return zlib.decompress(reading.body, 16 + zlib.MAX_WBITS)
        except zlib.error:
            return b""
    return reading.body


def run_rows(rows: list[Row], tmp: Path, setup: Setup, parallel: int = 1) -> dict[str, RowResult]:
    """Run rows `parallel` at a time (each row's streams are independent: one nginx and one
    backend per row and backend kind), the slow rows first."""
    ordered = sorted(rows, key=lambda r: (not r.silent, -r.events * r.gap, not r.repeat))
    results: dict[str, RowResult] = {}
    for start in range(0, len(ordered), parallel):
        batch = ordered[start : start + parallel]
        run_all([_row_job(row, tmp, setup, results) for row in batch])
    return results


def _row_job(row: Row, tmp: Path, setup: Setup, results: dict[str, RowResult]) -> Job:
    def job() -> list[Outcome]:
        results[row.name] = run_row(row, tmp, setup)
        return results[row.name].outcomes

    return job
