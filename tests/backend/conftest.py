"""Backend fixtures: one simulated backend and one backend on a fake Anthropic API, shared by
the whole run (each test logs in afresh, so sessions and their stream limits never mix)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.backend.sse_client import new_client
from tests.support.backend_server import FakeAnthropic, fake_anthropic_server, running_backend
from tests.support.postgres import PostgresServer, running_postgres

SIM_TOKEN_MS = 15
FAKE_API_KEY = "sk-ant-test-DO-NOT-LEAK-0123456789"


@pytest.fixture(scope="session")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """verse_backend with the simulated model, one token every SIM_TOKEN_MS ms."""
    with running_backend(
        tmp_path_factory.mktemp("backend"), {"VERSE_SIM_TOKEN_MS": str(SIM_TOKEN_MS)}
    ) as url:
        yield url


@pytest.fixture
def client(backend_url: str) -> Iterator[httpx.Client]:
    """A client with a fresh session on the simulated backend."""
    with new_client(backend_url) as client:
        yield client


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with fake_anthropic_server() as fake:
        yield fake


@pytest.fixture(scope="session")
def anthropic_backend_url(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic: FakeAnthropic
) -> Iterator[str]:
    """verse_backend with the anthropic provider, pointed at the fake API."""
    env = {
        "VERSE_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
    }
    with running_backend(tmp_path_factory.mktemp("anthropic-backend"), env) as url:
        yield url


@pytest.fixture
def anthropic_client(anthropic_backend_url: str) -> Iterator[httpx.Client]:
    with new_client(anthropic_backend_url) as client:
        yield client


@pytest.fixture(autouse=True)
def _no_backend_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings built in this process must not pick up the developer's VERSE_* or key."""
    for name in list(os.environ):
        if name.startswith(("VERSE_", "ANTHROPIC_")):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the run (see tests/support/postgres.py)."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def db_url(postgres: PostgresServer) -> str:
    """A fresh database on the run's server."""
    return postgres.new_database()


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    """The test's own connection to it: the database's clock, and what the stores under test
    cannot see or break."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn
