"""The port the backend really listens on: --backend-port, else the published port of the
backend service in a docker compose file (./docker-compose.prod.yml by default), else 7776."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from versectl.errors import InputError

DEFAULT_PORT = 7776
DEFAULT_COMPOSE = "docker-compose.prod.yml"
_BACKEND_HINTS = ("backend", "api", "verse", "app", "server", "web")


@dataclass(frozen=True)
class BackendPort:
    """Which port, and how we know."""

    port: int
    source: str
    """flag | compose | default (CONTRACT.md `backend_port_source`)."""
    detail: str = ""
    """For compose: `docker-compose.prod.yml, service backend, "127.0.0.1:7776:7776"`."""
    candidates: tuple[int, ...] = ()
    """Every port the compose file publishes, and the default: where a lost backend may be."""


def resolve_backend_port(flag: int | None, compose: str | None) -> BackendPort:
    """Apply the precedence; an explicit --compose file that cannot be read is bad input."""
    published: list[tuple[str, int, str]] = []
    compose_path = compose or (DEFAULT_COMPOSE if Path(DEFAULT_COMPOSE).is_file() else None)
    if compose_path is not None:
        published = compose_ports(compose_path)
    candidates = tuple(dict.fromkeys([p for _s, p, _r in published] + [DEFAULT_PORT]))
    if flag is not None:
        if not 0 < flag < 65536:
            raise InputError(f"--backend-port {flag}: not a TCP port")
        return BackendPort(flag, "flag", "--backend-port", candidates)
    if published:
        service, port, raw = _pick_backend(published)
        detail = f"{compose_path}, service {service}, {raw!r}"
        return BackendPort(port, "compose", detail, candidates)
    return BackendPort(DEFAULT_PORT, "default", "verse_backend's production port", candidates)


def compose_ports(path: str) -> list[tuple[str, int, str]]:
    """(service, published host port, the entry as written) for every service port."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read compose file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({_first_line(str(exc))})") from None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    found: list[tuple[str, int, str]] = []
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        for entry in service.get("ports") or []:
            port = _published_port(entry)
            if port is not None:
                found.append((str(name), port, _as_written(entry)))
        if service.get("network_mode") == "host":
            env_port = _env_port(service.get("environment"))
            if env_port is not None:
                found.append((str(name), env_port, f"network_mode: host, VERSE_PORT={env_port}"))
    return found


def _published_port(entry: Any) -> int | None:
    if isinstance(entry, dict):  # long syntax
        value = entry.get("published", entry.get("target"))
        text = str(value) if value is not None else ""
        return int(text) if text.isdigit() else _first_of_range(text)
    text = str(entry).split("/", 1)[0]  # "7776:7776/tcp"
    parts = text.rsplit(":", 2)
    # "HOST_IP:HOST:CONTAINER", "HOST:CONTAINER" or "CONTAINER" (then the host port is random:
    # docker picks one; treat the container port as the published one, the usual intent)
    host_part = parts[-2] if len(parts) >= 2 else parts[-1]
    return int(host_part) if host_part.isdigit() else _first_of_range(host_part)


def _first_of_range(text: str) -> int | None:
    match = re.fullmatch(r"(\d+)-\d+", text)
    return int(match.group(1)) if match else None


def _env_port(environment: Any) -> int | None:
    items: dict[str, str] = {}
    if isinstance(environment, dict):
        items = {str(k): str(v) for k, v in environment.items()}
    elif isinstance(environment, list):
        items = dict(str(e).split("=", 1) for e in environment if "=" in str(e))
    value = items.get("VERSE_PORT", "")
    return int(value) if value.isdigit() else None


def _as_written(entry: Any) -> str:
    if isinstance(entry, dict):
        return ", ".join(f"{k}: {v}" for k, v in entry.items())
    return str(entry)


def _pick_backend(published: list[tuple[str, int, str]]) -> tuple[str, int, str]:
    services = list(dict.fromkeys(s for s, _p, _r in published))
    for hint in _BACKEND_HINTS:
        for service in services:
            if hint in service.lower():
                return next(entry for entry in published if entry[0] == service)
    return published[0]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
