"""The port the backend really listens on: --backend-port, else the port the backend service
publishes in a docker compose file (./docker-compose.prod.yml by default; with a known app's
image, that service; the compose spec's port syntax with `${VAR:-default}` interpolation), else
the --app profile's usual port, else 7776."""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from versectl.defaults import BACKEND_PORT
from versectl.errors import InputError

if TYPE_CHECKING:
    from versectl.apps.profile import AppProfile

DEFAULT_PORT = BACKEND_PORT
DEFAULT_COMPOSE = "docker-compose.prod.yml"
MAX_COMPOSE_BYTES = 1024 * 1024
"""Compose files are kilobytes; this keeps `--compose /dev/zero` from filling memory."""
_BACKEND_HINTS = ("backend", "api", "verse", "app", "server", "web")


@dataclass(frozen=True)
class BackendPort:
    """Which port, and how we know."""

    port: int
    source: str
    """flag | compose | profile | live | default (CONTRACT.md `backend_port_source`)."""
    detail: str = ""
    """For compose: `docker-compose.prod.yml, service backend, "127.0.0.1:7776:7776"`."""
    candidates: tuple[int, ...] = ()
    """Every port the compose file publishes, and the default: where a lost backend may be."""
    app: str | None = None
    """The app this port is known for (--app, or recognised from a compose service's image)."""
    also: tuple[int, ...] = ()
    """With source `profile`: the app's other usual ports, as right as `port` (3000 and 8080
    for Open WebUI): a profile knows the app, not which of its usual mappings this host uses."""


def resolve_backend_port(
    flag: int | None, compose: str | None, app: AppProfile | None = None
) -> BackendPort:
    """Apply the precedence; an explicit --compose file that cannot be read is bad input.
    With `app` (--app, not verse) a compose file counts only through a service running that
    app's image: verse's own compose file next door says nothing of an Ollama port."""
    from versectl.apps.detect import app_in_compose

    published: list[tuple[str, int, str]] = []
    compose_path = compose or (DEFAULT_COMPOSE if Path(DEFAULT_COMPOSE).is_file() else None)
    if compose_path is not None:
        published = compose_ports(compose_path)
    other_app = app if app is not None and app.name != "verse" else None
    extra = [other_app.port] if other_app is not None else []
    candidates = tuple(dict.fromkeys([p for _s, p, _r in published] + extra + [DEFAULT_PORT]))
    if flag is not None:
        if not 0 < flag < 65536:
            raise InputError(f"--backend-port {flag}: not a TCP port")
        return BackendPort(
            flag, "flag", "--backend-port", candidates, app.name if app is not None else None
        )
    found = app_in_compose(compose_path, other_app) if compose_path is not None else None
    if found is not None and found.profile.name != "verse":
        return BackendPort(found.port, "compose", found.detail, candidates, found.profile.name)
    if other_app is not None:
        detail = f"{other_app.title}'s usual port (--app {other_app.name})"
        also = tuple(p for p in other_app.ports if p != other_app.port)
        if also:
            detail += f"; also {', '.join(map(str, also))}"
        return BackendPort(
            other_app.port, "profile", detail, candidates, other_app.name, tuple(also)
        )
    if published:
        service, port, raw = _pick_backend(published)
        detail = f"{compose_path}, service {service}, {raw!r}"
        return BackendPort(port, "compose", detail, candidates)
    return BackendPort(DEFAULT_PORT, "default", "verse_backend's production port", candidates)


def compose_ports(path: str) -> list[tuple[str, int, str]]:
    """(service, the TCP port nginx on the host connects to, the entry as written) for every
    TCP port a service publishes. Malformed port entries are InputError naming the service."""
    doc = _load_yaml(path)
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    env = compose_environment(path)
    found: list[tuple[str, int, str]] = []
    for name, service in services.items():
        if not isinstance(service, dict):
            continue
        where = f"{path}: service {name}"
        ports = service.get("ports")
        if ports is not None and not isinstance(ports, list):
            raise InputError(
                f"{where}: `ports` must be a list (`ports: [{_as_written(ports)!r}]`), "
                f"not {_as_written(ports)!r}"
            )
        for entry in ports or []:
            raw = _as_written(entry)
            for port in published_ports(entry, env, f"{where}, ports entry {raw!r}"):
                found.append((str(name), port, raw))
        if service.get("network_mode") == "host":
            env_port = _env_port(service.get("environment"), env, where)
            if env_port is not None:
                found.append((str(name), env_port, f"network_mode: host, VERSE_PORT={env_port}"))
    return found


def compose_images(path: str) -> dict[str, str]:
    """Each service's `image:` as compose reads it (interpolated), for services that name one."""
    doc = _load_yaml(path)
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return {}
    env = compose_environment(path)
    return {
        str(name): interpolate(str(service["image"]), env, f"{path}: service {name}")
        for name, service in services.items()
        if isinstance(service, dict) and isinstance(service.get("image"), str)
    }


def published_ports(entry: object, env: Mapping[str, str], where: str) -> Iterator[int]:
    """The host ports one `ports:` entry publishes over TCP (a range gives several); with no
    host port (`"7776"`) docker picks a random one, so the container port is what another
    container (nginx on the compose network) reaches. UDP entries publish no TCP port."""
    if isinstance(entry, dict):
        yield from _long_form(entry, env, where)
        return
    if isinstance(entry, bool) or not isinstance(entry, int | str):
        raise InputError(f"{where}: not a port mapping")
    text = interpolate(str(entry), env, where).strip()
    spec, _slash, protocol = text.partition("/")
    if protocol and protocol.lower() not in ("tcp", "udp", "sctp"):
        raise InputError(f"{where}: unknown protocol {protocol!r} (tcp, udp or sctp)")
    # [HOST_IP:][HOST:]CONTAINER; HOST_IP may be IPv6 (`::1:8000:7776` or `[::1]:8000:7776`)
    parts = spec.rsplit(":", 2)
    container = _port_range(parts[-1], where, "container port")
    host = _port_range(parts[-2], where, "host port") if len(parts) >= 2 and parts[-2] else None
    if protocol.lower() in ("udp", "sctp"):
        return
    if host is None:
        yield container[0]
    else:
        if len(host) > 1 and len(container) > 1 and len(host) != len(container):
            raise InputError(f"{where}: host and container ranges differ in length")
        yield from host


def _long_form(entry: dict[Any, Any], env: Mapping[str, str], where: str) -> Iterator[int]:
    values = {str(k): interpolate(str(v), env, where) for k, v in entry.items() if v is not None}
    if "target" not in values:
        raise InputError(f"{where}: the long form needs `target` (the container port)")
    protocol = values.get("protocol", "tcp").lower()
    if protocol not in ("tcp", "udp", "sctp"):
        raise InputError(f"{where}: unknown protocol {protocol!r} (tcp, udp or sctp)")
    container = _port_range(values["target"], where, "target")
    published = values.get("published", "")
    host = _port_range(published, where, "published") if published else container[:1]
    if protocol == "tcp":
        yield from host


_RANGE = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")


def _port_range(text: str, where: str, what: str) -> list[int]:
    """`7776` or `8000-8001` as the ports it names; anything else, or outside 1..65535,
    is InputError."""
    match = _RANGE.fullmatch(text.strip())
    if match is None:
        raise InputError(f"{where}: {what} {text!r} is not a port or a range of ports")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    for port in (first, last):
        if not 0 < port < 65536:
            raise InputError(f"{where}: {what} {port} is not a TCP port (1-65535)")
    if last < first:
        raise InputError(f"{where}: {what} range {text!r} ends before it starts")
    return list(range(first, last + 1))


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(text: str, env: Mapping[str, str], where: str) -> str:
    """Compose's interpolation: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty),
    `${VAR-default}` (unset), `${VAR:?message}`/`${VAR?message}` (required), `${VAR:+alt}`,
    `${VAR+alt}`, and `$$` for a literal `$`. An unset variable is empty, as in compose."""

    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("plain")
        value = env.get(name)
        op, arg = match.group("op"), match.group("arg") or ""
        unset_or_empty = value is None or (value == "" and op is not None and op[0] == ":")
        if op in (":-", "-"):
            return arg if unset_or_empty else str(value)
        if op in (":?", "?"):
            if unset_or_empty:
                raise InputError(f"{where}: required variable {name} is missing a value: {arg}")
            return str(value)
        if op in (":+", "+"):
            return "" if unset_or_empty else arg
        return value or ""

    if "$" not in text:
        return text
    return _VARIABLE.sub(replace, text)


def compose_environment(path: str) -> dict[str, str]:
    """The variables compose interpolates with: the `.env` beside the compose file, overridden
    by the process environment (compose's precedence)."""
    env: dict[str, str] = {}
    dotenv = Path(path).parent / ".env"
    try:
        text = _read_small(str(dotenv), "env file") if dotenv.is_file() else ""
    except InputError:
        text = ""  # an unreadable .env: compose would fail on it; the defaults still apply
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _eq, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        env[key.strip()] = value
    env.update(os.environ)
    return env


def _load_yaml(path: str) -> object:
    import yaml

    text = _read_small(path, "compose file")
    try:
        return yaml.load(text, Loader=_compose_loader())  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({_first_line(str(exc))})") from None
    except RecursionError:
        raise InputError(f"{path}: YAML nested too deep") from None


def _read_small(path: str, what: str) -> str:
    try:
        info = Path(path).stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: cannot read {what} (not a regular file)")
        if info.st_size > MAX_COMPOSE_BYTES:
            raise InputError(f"{path}: {what} too large (over 1 MiB)")
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_COMPOSE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what} ({exc.strerror})") from None
    if len(data) > MAX_COMPOSE_BYTES:
        raise InputError(f"{path}: {what} too large (over 1 MiB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: {what} is not a text file") from None


@functools.cache
def _compose_loader() -> type[Any]:
    """PyYAML's SafeLoader with YAML 1.2 integers, as compose (go-yaml v3) reads: in YAML 1.1
    an unquoted `- 80:30` is the base-60 integer 4830, for compose the string "80:30"."""
    import yaml

    class ComposeLoader(yaml.SafeLoader):
        pass

    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:int"]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    ComposeLoader.yaml_implicit_resolvers = resolvers
    ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    return ComposeLoader


def _env_port(environment: object, env: Mapping[str, str], where: str) -> int | None:
    items: dict[str, str] = {}
    if isinstance(environment, dict):
        items = {str(k): str(v) for k, v in environment.items() if v is not None}
    elif isinstance(environment, list):
        items = dict(str(e).split("=", 1) for e in environment if "=" in str(e))
    value = interpolate(items.get("VERSE_PORT", ""), env, where).strip()
    if not value:
        return None
    return _port_range(value, where, "VERSE_PORT")[0]


def _as_written(entry: object) -> str:
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
