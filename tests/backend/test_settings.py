"""Settings: provider choice, the start-up refusal, and the persisted cookie-signing key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from verse_backend.app import create_app
from verse_backend.settings import DEFAULT_MODEL, Settings, is_loopback_host, session_secret


def test_settings_auto_provider_follows_the_api_key(tmp_path: Path) -> None:
    assert Settings(db=tmp_path / "db").effective_provider == "simulated"
    assert (
        Settings(db=tmp_path / "db", anthropic_api_key=SecretStr("k")).effective_provider
        == "anthropic"
    )
    forced = Settings(db=tmp_path / "db", provider="simulated", anthropic_api_key=SecretStr("k"))
    assert forced.effective_provider == "simulated"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VERSE_PORT", "8123")
    monkeypatch.setenv("VERSE_SIM_TOKEN_MS", "5")
    monkeypatch.setenv("VERSE_DB", str(tmp_path / "x.sqlite3"))
    monkeypatch.setenv("VERSE_COOKIE_SECURE", "1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    settings = Settings()
    assert (settings.port, settings.sim_token_ms, settings.cookie_secure) == (8123, 5, True)
    assert settings.db == tmp_path / "x.sqlite3"
    assert settings.effective_provider == "anthropic"


def test_settings_defaults_match_the_contract(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "db")
    assert (settings.host, settings.port, settings.sim_token_ms) == ("127.0.0.1", 7776, 30)
    assert (settings.max_message_chars, settings.max_streams_per_session) == (8000, 2)
    assert settings.model == DEFAULT_MODEL


def test_settings_default_model_is_not_deprecated() -> None:
    from anthropic._data import DEPRECATED_MODELS

    assert DEFAULT_MODEL not in DEPRECATED_MODELS


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "pi.local"])
def test_settings_refuse_paid_model_without_password_on_public_host(
    tmp_path: Path, host: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(db=tmp_path / "db", host=host, anthropic_api_key=SecretStr("sk-ant-x"))
    message = str(caught.value)
    assert "refusing to start" in message
    assert "VERSE_PASSWORD" in message
    assert "sk-ant-x" not in message


def test_settings_allow_public_host_with_password_or_simulation(tmp_path: Path) -> None:
    Settings(
        db=tmp_path / "db",
        host="0.0.0.0",
        anthropic_api_key=SecretStr("k"),
        password=SecretStr("pw"),
    )
    Settings(db=tmp_path / "db", host="0.0.0.0")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "localhost"])
def test_settings_allow_paid_model_without_password_on_loopback(tmp_path: Path, host: str) -> None:
    assert is_loopback_host(host)
    Settings(db=tmp_path / "db", host=host, anthropic_api_key=SecretStr("k"))


def test_settings_refuse_anthropic_provider_without_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ANTHROPIC_API_KEY"):
        Settings(db=tmp_path / "db", provider="anthropic")


def test_settings_factory_refuses_unsafe_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The `uvicorn --factory verse_backend.app:create_app` path reads the environment.
    monkeypatch.setenv("VERSE_DB", str(tmp_path / "db"))
    monkeypatch.setenv("VERSE_HOST", "0.0.0.0")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-x")
    with pytest.raises(ValidationError, match="refusing to start"):
        create_app()


def test_settings_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "data" / "verse.sqlite3")
    first = session_secret(settings)
    assert session_secret(settings) == first
    assert len(first) >= 32
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]


def test_settings_secret_key_from_environment_wins(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "verse.sqlite3", secret_key=SecretStr("configured"))
    assert session_secret(settings) == "configured"
    assert not (tmp_path / "secret_key").exists()


def test_settings_refuse_a_database_url_without_a_shared_secret_key() -> None:
    with pytest.raises(ValidationError, match="VERSE_SECRET_KEY"):
        Settings(database_url="postgresql://verse@/verse")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(database_url="mysql://x", secret_key="k" * 40)  # type: ignore[arg-type]
    settings = Settings(database_url="postgresql://u:pw@db/verse", secret_key="k" * 40)  # type: ignore[arg-type]
    assert "pw" not in repr(settings)
