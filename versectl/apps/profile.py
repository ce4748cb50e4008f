"""Load the app profiles (versectl/apps/profiles/<name>.toml) and look one up by name, by a
compose service's image, or by a request path."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from versectl.errors import InputError

DEFAULT_APP = "verse"
MESSAGE_PLACEHOLDER = "@MESSAGE@"
MODEL_PLACEHOLDER = "@MODEL@"
PROFILES_DIR = Path(__file__).parent / "profiles"
"""Package data beside this module (pyproject's package-data): read as plain files, as pip
installs them; importlib.resources would add ~5 ms (zipfile, tempfile) to every check."""
PROFILE_NAMES = (
    "verse",
    "open-webui",
    "librechat",
    "dify",
    "lobe-chat",
    "anything-llm",
    "ollama",
    "openai-compatible",
)
"""The catalog, in the order `versectl apps` lists it (explicit, as the rule catalog is)."""


@dataclass(frozen=True)
class StreamSpec:
    """One streaming endpoint of an app."""

    uri: str
    """A concrete path (what check evaluates and the README shows)."""
    pattern: str
    """The path with `{name}` for one variable segment: which probed URLs this spec is for."""
    framing: str
    body: object
    """The JSON body the probe sends, with @MESSAGE@ / @MODEL@ placeholders."""
    model: str | None = None

    def prefix(self, path: str) -> str | None:
        """The subpath in front of this endpoint in `path` ("" at the root), None: not it."""
        regex = re.escape(self.pattern.rstrip("/"))
        regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", regex)
        found = re.fullmatch("((?:/.*)?)" + regex, path.rstrip("/"))
        return found.group(1) if found is not None else None

    def matches(self, path: str) -> bool:
        """`path` is this endpoint, also under a subpath (`/chat/api/chat` for `/api/chat`)."""
        regex = re.escape(self.pattern.rstrip("/"))
        regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", regex)
        return re.fullmatch("(?:/.*)?" + regex, path.rstrip("/")) is not None

    def request_body(self, message: str, model: str | None = None) -> bytes:
        chosen = model or self.model or ""

        def fill(value: object) -> object:
            if isinstance(value, str):
                return value.replace(MESSAGE_PLACEHOLDER, message).replace(
                    MODEL_PLACEHOLDER, chosen
                )
            if isinstance(value, list):
                return [fill(item) for item in value]
            if isinstance(value, dict):
                return {key: fill(item) for key, item in value.items()}
            return value

        return json.dumps(fill(self.body)).encode()


@dataclass(frozen=True)
class AppProfile:
    name: str
    title: str
    port: int
    heartbeat: float
    heartbeat_note: str
    streams: tuple[StreamSpec, ...]
    images: tuple[str, ...] = ()
    also_ports: tuple[int, ...] = ()
    """Other ports the app is commonly reached on (Open WebUI's `-p 3000:8080`)."""
    image_ports: dict[str, int] = field(default_factory=dict)
    websockets: tuple[str, ...] = ()
    websocket_ping: float | None = None
    """Seconds between the WebSocket's own pings (Socket.IO: 25); None: `heartbeat`."""
    auth: str | None = None
    models_uri: str | None = None
    """Where the app lists its models (Ollama's /api/tags), for a probe body without --model."""
    models_field: str = ""
    """The dotted path of the first model's name in that list (`models.0.name`)."""
    login: bool = False
    """verse_backend's POST /api/session (doctor --login)."""

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the app is usually reached on, its own first."""
        return (self.port, *self.also_ports, *self.image_ports.values())

    @property
    def uris(self) -> tuple[str, ...]:
        return tuple(stream.uri for stream in self.streams)

    def stream_for(self, path: str) -> StreamSpec | None:
        return next((s for s in self.streams if s.matches(path)), None)

    def image_match(self, image: str) -> str | None:
        """The profile's image name that `image` (`ghcr.io/org/app:tag@sha`) is, if any."""
        bare = image.strip().lower().split("@", 1)[0]
        last = bare.rsplit("/", 1)[-1]
        if ":" in last:
            bare = bare[: len(bare) - len(last)] + last.split(":", 1)[0]
        for known in self.images:
            if bare == known or bare.endswith("/" + known):
                return known
        return None

    def port_for_image(self, known: str) -> int:
        return self.image_ports.get(known, self.port)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "port": self.port,
            "also_ports": list(self.also_ports),
            "uris": list(self.uris),
            "framing": [s.framing for s in self.streams],
            "heartbeat": self.heartbeat,
            "heartbeat_note": self.heartbeat_note,
            "websockets": list(self.websockets),
            "images": list(self.images),
            "auth": self.auth,
        }


def get_profile(name: str) -> AppProfile:
    """The profile called `name`; an unknown name is InputError listing the known ones."""
    key = name.strip().lower()
    if key not in PROFILE_NAMES:
        raise InputError(f"--app {name!r}: unknown app; the apps are: {', '.join(PROFILE_NAMES)}")
    return _load(key)


def all_profiles() -> tuple[AppProfile, ...]:
    return tuple(_load(name) for name in PROFILE_NAMES)


def profile_for_image(image: str) -> tuple[AppProfile, int] | None:
    """The app a compose service's image is, and the port that image listens on."""
    for profile in all_profiles():
        known = profile.image_match(image)
        if known is not None:
            return profile, profile.port_for_image(known)
    return None


@functools.cache
def _load(name: str) -> AppProfile:
    import tomllib  # here: only a run that asks the profiles (--app, compose, a port) reads TOML

    data = tomllib.loads((PROFILES_DIR / f"{name}.toml").read_text(encoding="utf-8"))
    streams = tuple(
        StreamSpec(
            uri=item["uri"],
            pattern=item.get("pattern", item["uri"]),
            framing=item["framing"],
            body=item["body"],
            model=item.get("model"),
        )
        for item in data["streams"]
    )
    # a framing versectl.probe.framing does not know is a packaging mistake, which
    # tests/apps/test_profiles.py catches: importing the probe here costs every check ~6 ms
    return AppProfile(
        name=data["name"],
        title=data["title"],
        port=int(data["port"]),
        heartbeat=float(data["heartbeat"]),
        heartbeat_note=data["heartbeat_note"],
        streams=streams,
        images=tuple(data.get("images", ())),
        also_ports=tuple(int(p) for p in data.get("also_ports", ())),
        image_ports={k: int(v) for k, v in data.get("image_ports", {}).items()},
        websockets=tuple(w["uri"] for w in data.get("websockets", ())),
        websocket_ping=next(
            (float(w["ping"]) for w in data.get("websockets", ()) if "ping" in w), None
        ),
        auth=data.get("auth"),
        login=bool(data.get("login", False)),
        models_uri=data.get("models", {}).get("uri"),
        models_field=data.get("models", {}).get("field", ""),
    )
