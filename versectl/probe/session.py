"""`--login`: POST /api/session on the target's origin and keep the session cookie.

The password goes to that origin only: a redirect elsewhere ends the login with an error, and
no response body is read (the cookie is in the headers; a body may be a bomb).
"""

from __future__ import annotations

import httpx

from versectl.errors import ProbeError
from versectl.probe.client import make_ssl_context
from versectl.probe.failures import classify
from versectl.probe.record import ProbeRequest
from versectl.probe.redirects import MAX_REDIRECTS, is_redirect, origin

SESSION_PATH = "/api/session"


async def login(request: ProbeRequest, password: str) -> tuple[tuple[str, str], ...]:
    """The cookies the session endpoint set, added to those already in `request`.

    Raises ProbeError (exit 2) when the login fails: probing without a session gets a 401 anyway.
    """
    url = httpx.URL(request.url).copy_with(path=SESSION_PATH, query=None, fragment=None)
    try:
        async with httpx.AsyncClient(
            verify=make_ssl_context(request.insecure, request.cacert),
            timeout=httpx.Timeout(request.connect_timeout, read=request.timeout),
            cookies=dict(request.cookies),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            response = await _post(client, url, password)
    except (httpx.HTTPError, OSError) as exc:
        failure = classify(exc, str(url))
        raise ProbeError(failure.kind, f"--login: {failure.message}") from None
    if not response.is_success:
        hint = " (is VERSE_PASSWORD right?)" if response.status_code in (401, 403) else ""
        raise ProbeError("http", f"--login: POST {url} answered HTTP {response.status_code}{hint}")
    got = [(cookie.name, cookie.value or "") for cookie in client.cookies.jar]
    if not got:
        raise ProbeError("http", f"--login: POST {url} set no cookie")
    names = {name for name, _ in got}
    kept = [pair for pair in request.cookies if pair[0] not in names]
    return (*kept, *got)


async def _post(client: httpx.AsyncClient, url: httpx.URL, password: str) -> httpx.Response:
    """POST the password; follow redirects on the same origin only (307/308 re-post it)."""
    method, body = "POST", {"password": password}
    for _ in range(MAX_REDIRECTS + 1):
        request = client.build_request(method, url, json=body if method == "POST" else None)
        response = await client.send(request, stream=True)
        await response.aclose()
        if not is_redirect(response):
            return response
        try:
            target = url.join(response.headers["location"])
        except httpx.InvalidURL:
            raise ProbeError(
                "http", f"--login: HTTP {response.status_code}: bad Location"
            ) from None
        if origin(target) != origin(url):
            raise ProbeError(
                "http",
                f"--login: POST {url} answered HTTP {response.status_code} to another origin "
                f"({target.scheme}://{target.netloc.decode('ascii', 'replace')}): the password "
                "is not sent there",
            )
        if response.status_code in (301, 302, 303):
            method = "GET"
        url = target
    raise ProbeError("http", f"--login: more than {MAX_REDIRECTS} redirects")
