"""Configuration from the environment (prefix VERSE_), validated once at start."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ProviderChoice = Literal["auto", "simulated", "anthropic"]
ProviderName = Literal["simulated", "anthropic"]

DEFAULT_PORT = 7776
DEFAULT_MODEL = "claude-sonnet-5-5"
DEFAULT_STREAM_LEASE_S = 30.0
SECRET_KEY_FILENAME = "secret_key"  # noqa: S105 - a file name, not a secret


def default_db_path() -> Path:
    """The SQLite file under the user's data dir (~/.local/share/verse-backend on Linux)."""
    return platformdirs.user_data_path("verse-backend", appauthor=False) / "verse.sqlite3"


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost': addresses no other machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UnsafeConfigurationError(ValueError):
    """The configuration would expose something it must not; the server refuses to start."""


class Settings(BaseSettings):
    """Every knob of verse_backend. Environment variables are VERSE_<NAME> unless noted."""

    # hide_input_in_errors: a validation error must never echo the API key or password.
    model_config = SettingsConfigDict(
        env_prefix="VERSE_", populate_by_name=True, frozen=True, hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    forwarded_allow_ips: str = "127.0.0.1"
    provider: ProviderChoice = "auto"
    model: str = DEFAULT_MODEL
    max_tokens: int = Field(default=1024, ge=1)
    sim_token_ms: int = Field(default=30, ge=0)
    db: Path = Field(default_factory=default_db_path)
    # postgresql://... switches the store from the SQLite file `db` to PostgreSQL (replicas).
    database_url: SecretStr | None = None
    # PostgreSQL only: an answer still "streaming" whose replica has not renewed its lease for
    # this long (by the database's clock) is marked "interrupted" by any other replica.
    stream_lease_seconds: float = Field(default=DEFAULT_STREAM_LEASE_S, ge=1.0, le=3600.0)
    password: SecretStr | None = None
    cookie_secure: bool = False
    secret_key: SecretStr | None = None
    max_message_chars: int = Field(default=8000, ge=1)
    max_streams_per_session: int = Field(default=2, ge=1)
    # Failed logins per client address: this many at once, then this many per minute.
    login_burst: int = Field(default=10, ge=1)
    login_per_minute: float = Field(default=10.0, ge=0)
    # Slowloris guard (connection_guard.py): seconds a client gets to send a request head,
    # and open connections at most (lowered to fit the file-descriptor limit).
    header_timeout_s: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
    keep_alive_s: int = Field(default=5, ge=1)
    # Read under the SDK's own names, so one env file serves both.
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "anthropic_base_url")
    )

    @property
    def effective_provider(self) -> ProviderName:
        """`auto` means: the real model when a key is present, the offline simulation otherwise."""
        if self.provider == "auto":
            return "anthropic" if self.anthropic_api_key else "simulated"
        return self.provider

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        check_exposure(self)
        check_database(self)
        return self


def check_database(settings: Settings) -> None:
    """A PostgreSQL URL means replicas: they must share the cookie key, or each would turn
    away the sessions the others issued."""
    if settings.database_url is None:
        return
    url = settings.database_url.get_secret_value()
    if not url.startswith(("postgresql://", "postgres://")):
        raise UnsafeConfigurationError(
            "VERSE_DATABASE_URL must start with postgresql:// (leave it unset for SQLite)"
        )
    if settings.secret_key is None:
        raise UnsafeConfigurationError(
            "VERSE_DATABASE_URL is set but VERSE_SECRET_KEY is not: every replica needs the "
            "same cookie-signing key; set VERSE_SECRET_KEY to one long random value"
        )


def check_exposure(settings: Settings) -> None:
    """Fail fast on configurations that would turn the server into an open, paid proxy."""
    if settings.effective_provider != "anthropic":
        return
    if not settings.anthropic_api_key:
        raise UnsafeConfigurationError(
            "VERSE_PROVIDER=anthropic needs ANTHROPIC_API_KEY; unset VERSE_PROVIDER "
            "(or set it to 'simulated') to run the offline simulation"
        )
    if not settings.password and not is_loopback_host(settings.host):
        raise UnsafeConfigurationError(
            f"refusing to start: the anthropic provider is active, VERSE_PASSWORD is unset and "
            f"the host {settings.host!r} is not loopback, so anyone who can reach this port "
            f"would spend your API credit. Set VERSE_PASSWORD, or bind to 127.0.0.1."
        )


def load_settings() -> Settings:
    """Settings from the environment; validated (raises on an unsafe configuration)."""
    return Settings()


def session_secret(settings: Settings) -> str:
    """The cookie-signing key: VERSE_SECRET_KEY, else one generated once and kept next to the DB.

    Persisting it means sessions (and so access to their conversations) survive a restart.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.db.parent / SECRET_KEY_FILENAME
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    # Written whole to a private temp file, then linked into place: link() fails when the file
    # exists, so of two processes starting at once one wins and the other reads a complete key.
    temp = path.with_name(f".{SECRET_KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key)
    try:
        os.link(temp, path)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
    finally:
        temp.unlink()
    return key
