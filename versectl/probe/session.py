"""`--login`: POST /api/session on the target's origin and keep the session cookie."""

from __future__ import annotations

import httpx

from versectl.errors import ProbeError
from versectl.probe.client import make_ssl_context
from versectl.probe.failures import classify
from versectl.probe.record import ProbeRequest

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
            follow_redirects=True,
            trust_env=False,
        ) as client:
            response = await client.post(url, json={"password": password})
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
