"""The probe's redirect policy, as curl's: what a request keeps when it follows a Location.

Credentials belong to the origin (scheme, host, port) they were given for: cookies (-b and the
--login session), every -H header (Authorization among them) and the body are sent only there.
A redirect to another origin is followed without them, as a GET, and says what it dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from versectl.probe.record import ProbeRequest

MAX_REDIRECTS = 10
"""curl follows 50, browsers about 20: a stream endpoint that needs more is misconfigured."""
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin(url: httpx.URL) -> Origin:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)


@dataclass(frozen=True, slots=True)
class Hop:
    """One request of a redirect chain: what is sent, and what was left out compared to the first."""

    url: httpx.URL
    method: str
    body: bytes | None
    headers: tuple[tuple[str, str], ...]
    cookies: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...] = ()


def first_hop(request: ProbeRequest) -> Hop:
    return Hop(
        httpx.URL(request.url), request.method, request.body, request.headers, request.cookies
    )


def next_hop(request: ProbeRequest, current: Hop, status: int, location: str) -> Hop:
    """The request that follows `current` answered `status` with `location`.

    Method changes as browsers and httpx do it (303 and 302 become GET, 301 turns POST into
    GET); 307 and 308 keep method and body, but only on the original origin.
    """
    url = current.url.join(location)
    method, body = current.method, current.body
    if (status in (302, 303) and method != "HEAD") or (status == 301 and method == "POST"):
        method, body = "GET", None
    if origin(url) == origin(httpx.URL(request.url)):
        headers = request.headers if body is not None else _without_body_headers(request.headers)
        return Hop(url, method, body, headers, request.cookies)
    dropped = [f"cookie {name}" for name, _value in request.cookies]
    dropped += [f"header {name}" for name, _value in request.headers]
    if body is not None:
        dropped.insert(0, "body")
        method = "GET"  # the method without its body means nothing to the other origin
    return Hop(url, method, None, (), (), tuple(dropped))


def _without_body_headers(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, v) for n, v in headers if n.lower() not in ("content-type", "content-length"))


def is_redirect(response: httpx.Response) -> bool:
    return response.status_code in REDIRECT_STATUSES and "location" in response.headers
