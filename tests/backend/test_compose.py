"""docker-compose.prod.yml and the Dockerfile hold the production promises (Docker cannot run
here, so the files are parsed and checked, and the healthcheck command is run for real)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import AliasChoices

from verse_backend.__main__ import DEFAULT_GRACEFUL_SHUTDOWN_S
from verse_backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _backend() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())
    service: dict[str, Any] = compose["services"]["backend"]
    return service


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for amount, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration):
        total += float(amount) * units[unit]
    return total


def _graceful_timeout(command: list[str]) -> float:
    if "--timeout-graceful-shutdown" in command:
        return float(command[command.index("--timeout-graceful-shutdown") + 1])
    return DEFAULT_GRACEFUL_SHUTDOWN_S


def test_compose_publishes_the_port_on_loopback_only() -> None:
    ports = _backend()["ports"]
    assert ports == ["127.0.0.1:7776:7776"]


def test_compose_builds_from_the_dockerfile_and_restarts() -> None:
    backend = _backend()
    assert backend["build"]["dockerfile"] == "Dockerfile"
    assert (ROOT / backend["build"]["context"] / "Dockerfile").is_file()
    assert backend["restart"] == "unless-stopped"


def test_compose_env_file_is_optional() -> None:
    assert _backend()["env_file"] == [{"path": ".env", "required": False}]


def test_compose_environment_binds_inside_and_trusts_the_bridge_gateway() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())
    environment = _backend()["environment"]
    assert environment["VERSE_PORT"] == "7776"
    assert environment["VERSE_HOST"] == "0.0.0.0"
    gateway = compose["networks"]["verse"]["ipam"]["config"][0]["gateway"]
    assert environment["VERSE_FORWARDED_ALLOW_IPS"] == gateway
    assert _backend()["networks"] == ["verse"]


def test_compose_stop_grace_period_outlasts_the_graceful_shutdown() -> None:
    backend = _backend()
    assert _seconds(backend["stop_grace_period"]) > _graceful_timeout(backend["command"])


def test_compose_keeps_the_database_on_a_volume() -> None:
    backend = _backend()
    db = Path(backend["environment"]["VERSE_DB"])
    mounts = [volume.split(":")[1] for volume in backend["volumes"]]
    assert str(db.parent) in mounts


def test_compose_healthcheck_uses_python_and_works(backend_url: str) -> None:
    test = _backend()["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    code = test[3]
    assert "http://127.0.0.1:7776/api/health" in code
    # Run the very command against a live backend (its port instead of 7776).
    live = code.replace("http://127.0.0.1:7776", backend_url)
    assert subprocess.run([sys.executable, "-c", live], timeout=30).returncode == 0
    dead = code.replace("http://127.0.0.1:7776", "http://127.0.0.1:9")
    assert (
        subprocess.run(
            [sys.executable, "-c", dead], timeout=30, stderr=subprocess.DEVNULL
        ).returncode
        != 0
    )


def test_dockerfile_is_slim_multiarch_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\s*$", text, re.MULTILINE)
    # No --platform pin: the base image's manifest list serves arm64 (Pi 5) and amd64 alike.
    assert "--platform" not in text.split("FROM", 1)[1].splitlines()[0]
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")


def test_dockerignore_keeps_secrets_and_venv_out() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in lines and ".venv" in lines and ".git" in lines


def test_env_example_and_readme_name_every_setting() -> None:
    names: list[str] = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.append(str(alias.choices[0]))
        else:
            names.append(f"VERSE_{name.upper()}")
    env_example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert [n for n in names if n not in readme] == []
    # Compose fixes host, port, DB, proxy trust and connection limits; the rest is the
    # operator's to set.
    fixed = {
        "VERSE_HEADER_TIMEOUT_S",
        "VERSE_MAX_CONNECTIONS",
        "VERSE_KEEP_ALIVE_S",
        "VERSE_HOST",
        "VERSE_PORT",
        "VERSE_DB",
        "VERSE_FORWARDED_ALLOW_IPS",
        "ANTHROPIC_BASE_URL",
    }
    assert [n for n in names if n not in env_example and n not in fixed] == []


def test_compose_postgres_profile_is_optional_loopback_and_checked() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.prod.yml").read_text())
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]
    assert postgres["ports"] == ["127.0.0.1:5432:5432"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert postgres["volumes"] == ["verse-postgres:/var/lib/postgresql/data"]
    assert "verse-postgres" in compose["volumes"]
    # The backend waits for it when it runs, and starts alone when the profile is off.
    assert _backend()["depends_on"]["postgres"] == {
        "condition": "service_healthy",
        "required": False,
    }
