"""Fixtures shared by every test package: real nginx and purpose-built servers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.nginx import NginxServer, running_nginx


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
