"""A real browser for the tests: Debian's Chromium driven by Playwright, reading a chat stream
with fetch + ReadableStream as chat frontends do, each chunk's arrival recorded in JavaScript.

One `Browser` per protocol for a whole module; it can be used from any thread (Playwright's
async API runs on a private event loop in a thread of its own).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from tests.nginx.streaming import Reading

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
PROBE_PAGE = "/probe.html"
PROBE_LOCATION = (
    f"    location = {PROBE_PAGE} {{\n"
    "        default_type text/html;\n"
    '        return 200 "<!doctype html><title>versectl probe</title>";\n'
    "    }\n"
)
"""The page the browser loads first, so that its fetch is same-origin (no CORS in the way)."""

_READ_SCRIPT = """
async ({path, body, login}) => {
  const out = {times: [], sizes: [], text: "", complete: false, error: null, status: null,
               protocol: null, origin: performance.timeOrigin};
  try {
    if (login) {
      const r = await fetch("/api/session", {method: "POST", body: JSON.stringify({password: "x"}),
                                             headers: {"Content-Type": "application/json"}});
      if (!r.ok) throw new Error("login answered " + r.status);
    }
    const response = await fetch(path, {method: "POST", body, cache: "no-store",
                                        headers: {"Content-Type": "application/json"}});
    out.status = response.status;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      out.times.push(performance.now());
      out.sizes.push(value.length);
      out.text += decoder.decode(value, {stream: true});
    }
    out.complete = true;
    // the resource timing entry is queued when the body ends: wait for it, bounded
    for (let i = 0; i < 100 && out.protocol === null; i++) {
      const entries = performance.getEntriesByType("resource").filter(e => e.name.endsWith(path));
      if (entries.length) out.protocol = entries[entries.length - 1].nextHopProtocol;
      else await new Promise(resolve => setTimeout(resolve, 10));
    }
  } catch (e) {
    out.error = String(e);
  }
  return out;
}
"""

T = TypeVar("T")


def require_chromium() -> str:
    """Debian's chromium; skip when missing, but fail in CI (CI=true), where it must exist."""
    if not os.access(CHROMIUM, os.X_OK) or shutil.which("chromium") is None:
        message = "chromium is not installed (make test installs Debian's chromium as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "playwright is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@dataclass
class BrowserReading(Reading):
    """A `Reading` whose times are chunk arrivals in the page, on this process's perf_counter
    clock; `protocol` is what the browser says it spoke (nextHopProtocol: "h2", "http/1.1")."""

    protocol: str | None = None
    text: str = ""


class Browser:
    """One headless Chromium; `http2=False` launches it with --disable-http2."""

    def __init__(self, *, http2: bool, concurrency: int = 6) -> None:
        self.http2 = http2
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._concurrency = concurrency
        self._playwright: Any = None
        self._browser: Any = None
        self._slots: asyncio.Semaphore | None = None

    @property
    def expected_protocol(self) -> str:
        return "h2" if self.http2 else "http/1.1"

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def start(self) -> None:
        self._thread.start()
        self._run(self._start(), 60)

    async def _start(self) -> None:
        from playwright.async_api import async_playwright

        self._slots = asyncio.Semaphore(self._concurrency)
        self._playwright = await async_playwright().start()
        args = [*LAUNCH_ARGS] if self.http2 else [*LAUNCH_ARGS, "--disable-http2"]
        # launch() gives every browser a fresh temporary profile (user data dir) of its own
        self._browser = await self._playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=args
        )

    def close(self) -> None:
        try:
            if self._thread.is_alive():
                self._run(self._close(), 30)
        finally:
            if self._thread.ident is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(10)
            if not self._thread.is_alive():
                self._loop.close()

    async def _close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    def read(
        self, origin: str, path: str, body: bytes, *, login: bool = False, timeout: float = 30
    ) -> BrowserReading:
        """Load `origin`/probe.html in a fresh context (own cookies), then POST `body` to
        `path` with fetch and read the response body chunk by chunk."""
        return self._run(self._read(origin, path, body, login, timeout), timeout + 10)

    async def _read(
        self, origin: str, path: str, body: bytes, login: bool, limit: float
    ) -> BrowserReading:
        assert self._slots is not None
        async with self._slots:
            context = await self._browser.new_context(ignore_https_errors=True)
            try:
                page = await context.new_page()
                page.set_default_timeout(limit * 1000)
                await page.goto(origin + PROBE_PAGE)
                # perf_counter and the page's wall clock (timeOrigin is epoch ms) side by side
                offset = time.time() - time.perf_counter()
                raw = await asyncio.wait_for(
                    page.evaluate(
                        _READ_SCRIPT, {"path": path, "body": body.decode(), "login": login}
                    ),
                    limit,
                )
            except Exception as exc:  # Playwright's errors: the reading says what happened
                return BrowserReading(error=f"{type(exc).__name__}: {exc}".splitlines()[0])
            finally:
                await context.close()
        return _reading(raw, offset, self.expected_protocol)


def _reading(raw: dict[str, Any], offset: float, expected: str) -> BrowserReading:
    reading = BrowserReading(
        status=raw["status"],
        times=[(raw["origin"] + t) / 1000 - offset for t in raw["times"]],
        sizes=list(raw["sizes"]),
        complete=bool(raw["complete"]),
        error=raw["error"],
        protocol=raw["protocol"],
        text=raw["text"],
        body=str(raw["text"]).encode(),
    )
    if reading.complete and reading.protocol != expected:
        reading.error = f"the browser spoke {reading.protocol!r}, not {expected!r}"
        reading.complete = False
        reading.times.clear()
    return reading


@contextmanager
def running_browser(*, http2: bool) -> Iterator[Browser]:
    """A started Chromium (skip when missing, fail in CI); closed after."""
    require_chromium()
    browser = Browser(http2=http2)
    try:
        browser.start()
        yield browser
    finally:
        browser.close()
