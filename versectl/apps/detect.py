"""Recognise an app in a docker compose file: the service whose image is a known app, and the
port nginx reaches it on (its published port, else the port that image listens on)."""

from __future__ import annotations

from dataclasses import dataclass

from versectl.apps.profile import AppProfile, all_profiles


@dataclass(frozen=True)
class ComposeApp:
    profile: AppProfile
    service: str
    port: int
    detail: str
    """`compose.yml, service ollama, image ollama/ollama, "11434:11434"`."""


def app_in_compose(path: str, want: AppProfile | None = None) -> ComposeApp | None:
    """The first service running a known app's image (only `want`'s, when given)."""
    from versectl.nginx.backend_port import compose_images, compose_ports

    published = compose_ports(path)
    profiles = (want,) if want is not None else all_profiles()
    for service, image in compose_images(path).items():
        for profile in profiles:
            known = profile.image_match(image)
            if known is None:
                continue
            ports = [(port, raw) for name, port, raw in published if name == service]
            image_port = profile.port_for_image(known)
            # of several published ports, the one mapped to the app's own port
            port, raw = next(
                ((p, r) for p, r in ports if r.removesuffix("/tcp").endswith(f":{image_port}")),
                ports[0] if ports else (image_port, "not published: the container's own port"),
            )
            detail = f"{path}, service {service}, image {image}, {raw!r}"
            return ComposeApp(profile, service, port, detail)
    return None


def choose_app(name: str | None, compose: str | None) -> AppProfile | None:
    """--app NAME; else the app a compose file runs (--compose, or the default file beside);
    None: verse, today's defaults."""
    from pathlib import Path

    from versectl.apps.profile import get_profile
    from versectl.nginx.backend_port import DEFAULT_COMPOSE

    if name is not None:
        return get_profile(name)
    path = compose or (DEFAULT_COMPOSE if Path(DEFAULT_COMPOSE).is_file() else None)
    found = app_in_compose(path) if path is not None else None
    return found.profile if found is not None and found.profile.name != "verse" else None
