"""Which model to ask for when neither --model nor -d says: the first one the server lists
(Ollama's GET /api/tags, an OpenAI-compatible GET /v1/models), so `probe-stream --app ollama
URL` works on any machine. Best effort, bounded: any failure leaves the profile's default."""

from __future__ import annotations

import dataclasses
import json

import httpx

from versectl.apps.profile import AppProfile
from versectl.probe.client import make_ssl_context
from versectl.probe.record import ProbeRequest

MAX_LIST_BYTES = 1 << 20
"""A model list is kilobytes; more is not one."""
LIST_TIMEOUT_S = 5.0


def models_url(profile: AppProfile, url: str) -> str | None:
    """The model list's URL on the stream's origin, under the same subpath as the stream."""
    if profile.models_uri is None:
        return None
    parsed = httpx.URL(url)
    spec = profile.stream_for(parsed.path)
    prefix = spec.prefix(parsed.path) if spec is not None else None
    if prefix is None:
        return None
    return str(parsed.copy_with(path=prefix + profile.models_uri, query=None, fragment=None))


def first_model(profile: AppProfile, request: ProbeRequest) -> str | None:
    """The first model the server lists, or None (no list, an error, not the expected JSON)."""
    where = models_url(profile, request.url)
    if where is None:
        return None
    headers = [(k, v) for k, v in request.headers if k.lower() != "content-type"]
    if request.cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in request.cookies)))
    try:
        with (
            httpx.Client(
                verify=make_ssl_context(request.insecure, request.cacert),
                timeout=min(LIST_TIMEOUT_S, request.timeout),
                follow_redirects=False,  # credentials stay on this origin
                trust_env=False,
            ) as client,
            client.stream("GET", where, headers=headers) as response,
        ):
            if response.status_code != 200:
                return None
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_LIST_BYTES:
                    return None
    except (httpx.HTTPError, OSError):
        return None
    return _field(bytes(body), profile.models_field)


def _field(body: bytes, dotted: str) -> str | None:
    try:
        value: object = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for key in dotted.split("."):
        if isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return None
    return value if isinstance(value, str) and value else None


def with_listed_model(profile: AppProfile, request: ProbeRequest) -> ProbeRequest:
    """`request` with the profile's body asking for the server's first listed model (when the
    server lists one; else `request` as it is)."""
    from versectl.probe.request import DEFAULT_MESSAGE

    spec = profile.stream_for(httpx.URL(request.url).path)
    listed = first_model(profile, request) if spec is not None else None
    if spec is None or listed is None:
        return request
    return dataclasses.replace(request, body=spec.request_body(DEFAULT_MESSAGE, listed))
