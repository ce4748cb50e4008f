"""The hops in front of nginx, named from response headers (and, with a second probe behind
them, from what changed): Cloudflare, Caddy, Traefik, other CDNs and compressing proxies, each
with what to set there. Facts: ../shared/realworld/SYMPTOMS.md [21]-[23]."""

from __future__ import annotations

from dataclasses import dataclass

from versectl.probe.advice import CDN_MARKS

CLOUDFLARE_IDLE_S = 100
"""Cloudflare ends a proxied response with no byte for about this long (error 524)."""


@dataclass(frozen=True, slots=True)
class Hop:
    name: str
    evidence: str
    """What in the response names it (`cf-ray: 8c1f...`, `via: 1.1 Caddy`)."""
    remedy: str
    """What to set at that hop for a stream to pass."""


_CLOUDFLARE = (
    f"Cloudflare ends a response silent for ~{CLOUDFLARE_IDLE_S} s (error 524): keep the "
    "backend's heartbeat well under that (a `: ping` every 15-30 s); send "
    "`Cache-Control: no-cache, no-transform` so it does not re-encode the stream; if it still "
    "holds it, serve the stream's hostname DNS-only (grey cloud)"
)
_CADDY = (
    "Caddy flushes text/event-stream itself, but `encode` compresses the stream and waits for "
    "~1 KB first: exclude text/event-stream from `encode` (or send `Cache-Control: no-transform`)"
)
_TRAEFIK = (
    "Traefik's `compress` middleware waits to compress a body that never ends: exclude "
    "text/event-stream from it (excludedContentTypes) or drop compress on this router"
)
_COMPRESSING = (
    "a proxy in front compresses the stream: turn compression off for text/event-stream "
    "there, or send `Cache-Control: no-transform` from the backend"
)


def front_hops(headers: dict[str, str]) -> list[Hop]:
    """The proxies and CDNs a response's headers name (lower-case header names)."""
    found: list[Hop] = []
    server = headers.get("server", "").lower()
    via = headers.get("via", "").lower()
    if "cf-ray" in headers or server == "cloudflare":
        mark = f"cf-ray: {headers['cf-ray']}" if "cf-ray" in headers else "server: cloudflare"
        found.append(Hop("Cloudflare", mark, _CLOUDFLARE))
    if "caddy" in via or server.startswith("caddy"):
        mark = f"via: {headers['via']}" if "caddy" in via else f"server: {headers['server']}"
        found.append(Hop("Caddy", mark, _CADDY))
    if "traefik" in via or server.startswith("traefik"):
        mark = f"via: {headers['via']}" if "traefik" in via else f"server: {headers['server']}"
        found.append(Hop("Traefik", mark, _TRAEFIK))
    for header, name in CDN_MARKS.items():
        if header in headers and name != "Cloudflare":
            found.append(
                Hop(name, f"{header}: {headers[header]}", f"{name} may buffer the stream too")
            )
    return found


def encoding_added(front: dict[str, str], behind: dict[str, str]) -> str | None:
    """The Content-Encoding a hop in front added (the response behind it had none)."""
    added = front.get("content-encoding")
    if added and added.lower() != "identity" and not behind.get("content-encoding"):
        return added
    return None


def compressing_hop(front: dict[str, str]) -> Hop:
    """The hop that compressed: named when its headers say which, else generic."""
    for hop in front_hops(front):
        if hop.name in ("Caddy", "Traefik", "Cloudflare"):
            return hop
    return Hop(
        "a compressing proxy", f"content-encoding: {front.get('content-encoding')}", _COMPRESSING
    )
