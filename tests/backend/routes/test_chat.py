"""Every refusal of a chat request is a plain HTTP status before any stream byte: 401, 404,
413, 422, 429. Over the real simulated backend (uvicorn in a subprocess)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.backend.sse_client import (
    CHAT_PATH,
    STANDALONE_PATH,
    chat_body,
    new_client,
    read_stream,
)
from tests.support.backend_server import FakeAnthropic, FakeScript
from tests.support.waiting import wait_until

MAX_BODY = 64 * 1024


def _refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.headers.get("content-type", "")


@pytest.mark.parametrize("path", [CHAT_PATH, STANDALONE_PATH])
def test_chat_without_session_is_401(backend_url: str, path: str) -> None:
    with new_client(backend_url, logged_in=False) as client:
        response = client.post(path, json=chat_body())
    assert _refusal(response) == (401, "application/json")


def test_chat_with_tampered_session_cookie_is_401(backend_url: str) -> None:
    with new_client(backend_url) as client:
        cookie = client.cookies["verse_session"]
        client.cookies.clear()
        client.cookies.set("verse_session", cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
        response = client.post(CHAT_PATH, json=chat_body())
    assert response.status_code == 401


def test_chat_unknown_insight_is_404(client: httpx.Client) -> None:
    response = client.post(CHAT_PATH, json=chat_body(insight_id=987654))
    assert _refusal(response) == (404, "application/json")
    assert "insight" in response.json()["detail"]


def test_chat_unknown_conversation_is_404(client: httpx.Client) -> None:
    response = client.post(CHAT_PATH, json=chat_body(conversation_id="no-such-conversation"))
    assert response.status_code == 404


def test_chat_conversation_of_another_session_is_404(
    client: httpx.Client, backend_url: str
) -> None:
    done = read_stream(client).named("done")[0].json()
    with new_client(backend_url) as stranger:
        response = stranger.post(CHAT_PATH, json=chat_body(conversation_id=done["conversation_id"]))
        history = stranger.get(f"/api/chat/conversations/{done['conversation_id']}")
    assert (response.status_code, history.status_code) == (404, 404)


@pytest.mark.parametrize(
    "body",
    [
        {"insight_id": 1},
        {"message": "hi"},
        {"message": 42, "insight_id": 1},
        {"message": "", "insight_id": 1},
        {"message": "hi", "insight_id": "one"},
    ],
    ids=["no-message", "no-insight", "message-not-str", "empty-message", "insight-not-int"],
)
def test_chat_invalid_body_is_422(client: httpx.Client, body: dict[str, object]) -> None:
    response = client.post(CHAT_PATH, json=body)
    assert _refusal(response) == (422, "application/json")


def test_chat_message_over_the_length_limit_is_422(client: httpx.Client) -> None:
    response = client.post(CHAT_PATH, json=chat_body("x" * 8001))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "message"]


def test_chat_message_at_the_length_limit_streams(client: httpx.Client) -> None:
    with client.stream("POST", STANDALONE_PATH, json={"message": "y" * 8000}) as response:
        assert response.status_code == 200


def test_chat_body_over_64k_is_413(client: httpx.Client) -> None:
    body = json.dumps(chat_body("z" * (MAX_BODY + 10))).encode()
    response = client.post(CHAT_PATH, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_chat_chunked_body_over_64k_is_413(client: httpx.Client) -> None:
    body = json.dumps(chat_body("z" * (MAX_BODY + 10))).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post(
        CHAT_PATH, content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


def test_chat_streams_over_the_session_limit_are_429(
    anthropic_backend_url: str, fake_anthropic: FakeAnthropic
) -> None:
    # Slow upstream answers keep both streams open for as long as this test needs.
    fake_anthropic.script = FakeScript(token_interval=0.5, tokens=["slow "] * 40)
    with new_client(anthropic_backend_url) as client:
        with (
            client.stream("POST", CHAT_PATH, json=chat_body()) as first,
            client.stream("POST", CHAT_PATH, json=chat_body()) as second,
        ):
            assert (first.status_code, second.status_code) == (200, 200)
            third = client.post(CHAT_PATH, json=chat_body())
            assert _refusal(third) == (429, "application/json")
            # The limit is per session: another user is not affected.
            with (
                new_client(anthropic_backend_url) as other,
                other.stream("POST", CHAT_PATH, json=chat_body()) as others,
            ):
                assert others.status_code == 200
        # Both streams were abandoned: their slots come back once the server has noticed.
        wait_until(lambda: _opens(client), 5.0, "a slot freed by the disconnect")


def _opens(client: httpx.Client) -> bool:
    with client.stream("POST", CHAT_PATH, json=chat_body()) as response:
        return response.status_code == 200


def test_standalone_chat_continues_its_conversation(client: httpx.Client) -> None:
    first = read_stream(client, STANDALONE_PATH, {"message": "What is a reverse proxy?"})
    conversation_id = first.named("done")[0].json()["conversation_id"]
    second = read_stream(
        client,
        STANDALONE_PATH,
        {"message": "And why would it buffer?", "conversation_id": conversation_id},
    )
    assert second.named("done")[0].json()["conversation_id"] == conversation_id
    history = client.get(f"/api/chat/conversations/{conversation_id}").json()
    assert history["insight_id"] is None
    assert [m["content"] for m in history["messages"]] == [
        "What is a reverse proxy?",
        first.text,
        "And why would it buffer?",
        second.text,
    ]


def test_standalone_conversation_cannot_continue_as_insight_chat(client: httpx.Client) -> None:
    first = read_stream(client, STANDALONE_PATH, {"message": "hello"})
    conversation_id = first.named("done")[0].json()["conversation_id"]
    response = client.post(CHAT_PATH, json=chat_body(conversation_id=conversation_id))
    assert response.status_code == 404


def test_chat_json_sent_as_text_plain_is_422(client: httpx.Client) -> None:
    # A cross-site <form> can POST text/plain with the cookie attached; it must not chat.
    response = client.post(
        CHAT_PATH, content=json.dumps(chat_body()), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 422


def test_chat_refused_requests_hold_no_stream_slot(client: httpx.Client) -> None:
    # The slot is taken in a dependency; a request refused after that must give it back.
    for _ in range(3):
        assert client.post(CHAT_PATH, json={"message": ""}).status_code == 422
        assert client.post(CHAT_PATH, json=chat_body(insight_id=424242)).status_code == 404
    with (
        client.stream("POST", CHAT_PATH, json=chat_body()) as first,
        client.stream("POST", CHAT_PATH, json=chat_body()) as second,
    ):
        assert (first.status_code, second.status_code) == (200, 200)
