"""A real nginx (Debian's package) for tests: see versectl/demo/private_nginx.py for the runner.

Tests get it through the `nginx` fixture (tests/conftest.py). A missing nginx skips, except in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from versectl.demo import private_nginx
from versectl.demo.ports import free_port
from versectl.demo.private_nginx import NginxServer
from versectl.nginx.binary import nginx_binary

__all__ = ["NginxServer", "free_port", "nginx_binary", "require_nginx", "running_nginx"]


def require_nginx() -> str:
    """The nginx binary; skip when missing, but fail in CI (CI=true), where it must exist."""
    binary = nginx_binary()
    if binary is None:
        message = "nginx is not installed (make test installs Debian's nginx-light as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@contextmanager
def running_nginx(prefix: Path, site: str) -> Iterator[NginxServer]:
    """Start a private nginx with `site` (``@PORT@`` -> its port); stop it after."""
    with private_nginx.running_nginx(prefix, site, require_nginx()) as server:
        yield server
