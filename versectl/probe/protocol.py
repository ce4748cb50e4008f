"""Which HTTP version a probe speaks, and the kind of client (browser, SDK) that stands for.

The client-kind strings are the project's shared vocabulary (versectl.nginx.clients.ClientKind).
"""

from __future__ import annotations

from enum import StrEnum

import httpx


class HttpVersion(StrEnum):
    http1_1 = "HTTP/1.1"
    http2 = "HTTP/2"


CLIENT_LABELS: dict[str, str] = {
    "h2": "HTTP/2 over TLS (browsers)",
    "http1.1+tls": "HTTP/1.1 over TLS (SDKs, curl --http1.1)",
    "http1.1": "plain HTTP/1.1",
}
"""Keyed by client kind: "h2", "http1.1+tls", "http1.1" (as check's findings name them)."""
ALL_CLIENT_KINDS: tuple[str, ...] = ("http1.1", "http1.1+tls", "h2")
CLIENT_WHO: dict[str, str] = {
    "h2": "browsers",
    "http1.1+tls": "SDKs",
    "http1.1": "plain-HTTP clients",
}
"""Who the client kind is, in a sentence ("SDKs get it at the end, browsers stream")."""


def client_kind(version: str, url: str) -> str:
    """The client kind a probe of `url` over `version` stands for."""
    if version == HttpVersion.http2:
        return "h2"  # h2c (prior knowledge, plain) is rare enough to share the name
    return "http1.1+tls" if httpx.URL(url).scheme == "https" else "http1.1"


def versions_to_probe(url: str, forced: HttpVersion | None) -> list[HttpVersion]:
    """What to probe: the forced version, else both for https (as a browser, then as an SDK
    would), else HTTP/1.1 (plain-HTTP browsers and SDKs alike speak HTTP/1.1)."""
    if forced is not None:
        return [forced]
    if httpx.URL(url).scheme == "https":
        return [HttpVersion.http2, HttpVersion.http1_1]
    return [HttpVersion.http1_1]
