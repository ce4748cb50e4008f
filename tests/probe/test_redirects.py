"""Redirects: credentials, cookies, custom headers and the body never cross to another origin."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from tests.probe.cli import run_probe
from tests.support.scripted_server import Plan, RecordedRequest, scripted_server, sse_tokens

SECRET = "s3cret-value-42"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_probe(*args, env=env, columns=200)


def _redirecting(status: int, location: Callable[[], str]) -> Callable[[RecordedRequest], Plan]:
    def plan_for(request: RecordedRequest) -> Plan:
        if request.path.startswith("/final"):
            return Plan(sse_tokens(15, 0.02))
        return Plan([], status=status, headers=(("Location", location()),))

    return plan_for


def _credentials() -> tuple[str, ...]:
    return (
        "-H",
        f"Authorization: Bearer {SECRET}",
        "-H",
        f"X-Api-Key: {SECRET}",
        "-b",
        f"verse_session={SECRET}",
        "-d",
        json.dumps({"message": SECRET}),
    )


def test_redirects_cross_origin_307_drops_cookies_headers_and_body() -> None:
    with scripted_server(Plan(sse_tokens(15, 0.02))) as other:
        plan = _redirecting(307, lambda: f"http://127.0.0.1:{other.port}/elsewhere")
        with scripted_server(plan) as first:
            done = _run(first.url + "/api/x", *_credentials(), "--format", "json")
        received = other.requests
    assert first.requests[0].headers["cookie"] == f"verse_session={SECRET}"
    assert len(received) == 1
    seen = received[0]
    assert SECRET not in json.dumps(seen.headers) + seen.body.decode()
    assert seen.method == "GET" and seen.body == b""
    assert not {"cookie", "authorization", "x-api-key", "content-type"} & set(seen.headers)
    result = json.loads(done.stdout)["results"][0]
    assert done.returncode == 0, done.stderr
    (redirect,) = result["redirects"]
    assert redirect["status"] == 307
    assert redirect["dropped"] == [
        "body",
        "cookie verse_session",
        "header Content-Type",
        "header Authorization",
        "header X-Api-Key",
    ]
    assert SECRET not in done.stdout + done.stderr


def test_redirects_cross_origin_302_table_says_what_was_not_sent() -> None:
    with scripted_server(Plan(sse_tokens(15, 0.02))) as other:
        plan = _redirecting(302, lambda: f"http://localhost:{other.port}/x")
        with scripted_server(plan) as first:
            done = _run(first.url + "/api/x", "-b", f"a={SECRET}")
        assert "cookie" not in other.requests[0].headers
    assert "not sent there: cookie a" in done.stdout, done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_redirects_same_origin_307_keeps_method_body_cookies_and_headers() -> None:
    port: list[int] = []
    with scripted_server(_redirecting(307, lambda: f"http://127.0.0.1:{port[0]}/final")) as s:
        port.append(s.port)
        done = _run(s.url + "/api/x", *_credentials(), "--format", "json")
        final = s.requests[1]
    assert done.returncode == 0, done.stderr
    assert final.method == "POST" and json.loads(final.body) == {"message": SECRET}
    assert final.headers["cookie"] == f"verse_session={SECRET}"
    assert final.headers["authorization"] == f"Bearer {SECRET}"
    assert final.headers["x-api-key"] == SECRET
    assert json.loads(done.stdout)["results"][0]["redirects"][0]["dropped"] == []


def test_redirects_same_origin_303_turns_into_get_without_the_body() -> None:
    with scripted_server(_redirecting(303, lambda: "/final")) as server:
        done = _run(server.url + "/api/x", *_credentials(), "--format", "json")
        final = server.requests[1]
    assert done.returncode == 0, done.stderr
    assert final.method == "GET" and final.body == b"" and "content-type" not in final.headers
    assert final.headers["cookie"] == f"verse_session={SECRET}"


def test_redirects_login_does_not_post_the_password_to_another_origin() -> None:
    with scripted_server(Plan(sse_tokens(3, 0))) as other:
        plan = _redirecting(307, lambda: f"http://127.0.0.1:{other.port}/api/session")
        with scripted_server(plan) as first:
            done = _run(first.url + "/api/x", "--login", env={"VERSE_PASSWORD": SECRET})
        assert other.requests == []
    assert done.returncode == 2
    assert "the password is not sent there" in done.stderr
    assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr


def test_redirects_endless_chain_stops_after_ten() -> None:
    with scripted_server(_redirecting(302, lambda: "/again")) as server:
        done = _run(server.url + "/api/x", "--format", "json")
        hops = len(server.requests)
    assert done.returncode == 2
    error = json.loads(done.stdout)["results"][0]["error"]
    assert error == {"kind": "http", "message": "more than 10 redirects"}
    assert hops == 11


def test_redirects_to_another_scheme_are_not_followed() -> None:
    with scripted_server(_redirecting(302, lambda: "file:///etc/passwd")) as server:
        done = _run(server.url + "/api/x", "--format", "json")
    assert done.returncode == 2
    error = json.loads(done.stdout)["results"][0]["error"]
    assert error == {"kind": "http", "message": "HTTP 302 to a file: URL: not followed"}


def test_redirects_cookies_a_server_sets_stay_with_its_origin() -> None:
    port: list[int] = []

    def first_plan(request: RecordedRequest) -> Plan:
        if request.path == "/api/x":
            headers = (("Location", "/again"), ("Set-Cookie", "from_first=1; Path=/"))
            return Plan([], status=302, headers=headers)
        return Plan([], status=302, headers=(("Location", f"http://localhost:{port[0]}/x"),))

    with scripted_server(Plan(sse_tokens(15, 0.02))) as other:
        port.append(other.port)
        with scripted_server(first_plan) as first:
            done = _run(first.url + "/api/x", "--format", "json")
            again = first.requests[1]
        assert "cookie" not in other.requests[0].headers
    assert done.returncode == 0, done.stderr
    assert again.headers.get("cookie") == "from_first=1"  # same origin: kept
