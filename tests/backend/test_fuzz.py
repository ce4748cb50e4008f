"""Hostile JSON bodies on every route (hypothesis): a 4xx or a clean stream, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tests.backend.doubles import scripted_app

RAW = "\x00raw\x00"  # a JSON string standing in for a number literal json.dumps cannot write
RAW_NUMBERS = [
    "1e400",
    "-1e400",
    "1e23",
    "100000000000000000000000",
    "-9223372036854775809",
    "9223372036854775808",
    "1.5",
    "0",
    "-0",
    "1E2",
    "1e-400",
]
FIELDS = ["message", "insight_id", "conversation_id", "password"]
ROUTES = ["/api/session", "/api/chat/message", "/api/standalone-chat"]

# Every code point, lone surrogates included (hypothesis leaves them out by default).
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    any_text,
    st.just(RAW),
)
json_values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | any_text, json_values, max_size=5),
    json_values,
)


# Reproducible (CI runs the same examples every time), nothing written to .hypothesis/, and the
# module-scoped client is shared by design (one app per password mode).
FUZZ_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


def _encode(body: Any, raw_number: str) -> bytes:
    return json.dumps(body).replace(json.dumps(RAW), raw_number).encode()


@pytest.fixture(scope="module", params=[None, "pw"], ids=["open", "password"])
def fuzz_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    password = SecretStr(request.param) if request.param else None
    app = scripted_app(tmp_path_factory.mktemp("fuzz"), password=password, sim_token_ms=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/session", json={"password": request.param}).status_code == 200
        yield client


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        assert '"type":"internal"' not in response.text, response.text
    else:
        response.json()  # every answer is JSON


@settings(**FUZZ_SETTINGS, max_examples=150)
@given(route=st.sampled_from(ROUTES), body=bodies, raw_number=st.sampled_from(RAW_NUMBERS))
def test_fuzz_json_bodies_never_give_500(
    fuzz_client: TestClient, route: str, body: Any, raw_number: str
) -> None:
    response = fuzz_client.post(
        route, content=_encode(body, raw_number), headers={"content-type": "application/json"}
    )
    _check(response)


@settings(**FUZZ_SETTINGS, max_examples=60)
@given(route=st.sampled_from(ROUTES), raw=st.binary(max_size=200))
def test_fuzz_raw_bytes_never_give_500(fuzz_client: TestClient, route: str, raw: bytes) -> None:
    _check(fuzz_client.post(route, content=raw, headers={"content-type": "application/json"}))


@settings(**FUZZ_SETTINGS, max_examples=60)
@given(conversation_id=any_text)
def test_fuzz_conversation_ids_in_the_path_never_give_500(
    fuzz_client: TestClient, conversation_id: str
) -> None:
    path = "/api/chat/conversations/" + quote(
        conversation_id.encode("utf-8", "surrogatepass"), safe=""
    )
    _check(fuzz_client.get(path))


@settings(**FUZZ_SETTINGS, max_examples=60)
@given(
    cookie=st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=300),
    method_path=st.sampled_from(
        [("DELETE", "/api/session"), ("POST", "/api/chat/message"), ("GET", "/api/health")]
    ),
)
def test_fuzz_session_cookies_never_give_500(
    fuzz_client: TestClient, cookie: str, method_path: tuple[str, str]
) -> None:
    method, path = method_path
    session = fuzz_client.cookies.pop("verse_session")  # only the fuzzed cookie goes out
    try:
        response = fuzz_client.request(
            method,
            path,
            headers={"cookie": b"verse_session=" + cookie.encode("latin-1")},
            json={"message": "hi", "insight_id": 1} if method == "POST" else None,
        )
    finally:
        fuzz_client.cookies.clear()
        fuzz_client.cookies.set("verse_session", session)
    _check(response)


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/api/chat/message", '{"message": "hi", "insight_id": 1e400}'),
        ("/api/chat/message", '{"message": "hi", "insight_id": 100000000000000000000000}'),
        ("/api/chat/message", '{"message": "hi", "insight_id": 9223372036854775808}'),
        ("/api/chat/message", '{"message": "\\ud800", "insight_id": 1}'),
        ("/api/chat/message", '{"message": "hi", "insight_id": 1, "conversation_id": "\\ud800"}'),
        ("/api/standalone-chat", '{"message": "hi", "conversation_id": "\\udfff"}'),
        ("/api/session", '{"password": "\\ud800"}'),
    ],
)
def test_reported_bodies_are_422(fuzz_client: TestClient, route: str, body: str) -> None:
    response = fuzz_client.post(route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


def test_validation_errors_never_echo_the_input(fuzz_client: TestClient) -> None:
    response = fuzz_client.post("/api/session", json={"password": ["my-secret-guess"]})
    assert response.status_code == 422
    assert "my-secret-guess" not in response.text


@pytest.mark.parametrize(
    "body",
    ["[" * 60_000, '{"message": ' + "[" * 30_000 + "]" * 30_000 + ', "insight_id": 1}'],
    ids=["array", "field"],
)
@pytest.mark.parametrize("route", ROUTES)
def test_deeply_nested_bodies_are_refused_without_a_500(
    fuzz_client: TestClient, route: str, body: str
) -> None:
    response = fuzz_client.post(route, content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
