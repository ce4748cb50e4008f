"""Fixtures shared by every test package: real nginx, purpose-built servers, TLS, browsers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.browser import Browser, require_chromium, running_browser
from tests.support.nginx import NginxServer, running_nginx
from tests.support.tls import TlsFiles, make_tls_files


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Callable[[str], NginxServer]]:
    """Start a real nginx with the given http-level site text (``@PORT@`` = its port).

    Usage: ``server = nginx("server { listen 127.0.0.1:@PORT@; location /api { ... } }")``.
    Every nginx started is stopped at the end of the test. Missing nginx: skip, or fail in CI.
    """
    with ExitStack() as stack:
        count = 0

        def start(site: str) -> NginxServer:
            nonlocal count
            count += 1
            return stack.enter_context(running_nginx(tmp_path / f"nginx{count}", site))

        yield start


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA and a certificate for 127.0.0.1, generated for this session."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def browsers() -> Iterator[tuple[Browser, ...]]:
    """Headless Chromium over HTTP/2 and Chromium with --disable-http2, one each for the whole
    session. Without chromium: () here (tests that need it call require_chromium: skip, or
    fail in CI)."""
    try:
        require_chromium()
    except pytest.skip.Exception:
        yield ()
        return
    with running_browser(http2=True) as h2, running_browser(http2=False) as http11:
        yield (h2, http11)
