"""The model the probe asks for: the first one the server lists, best effort and bounded (an
error, a non-200, a list that is not JSON or too large leaves the profile's default)."""

from __future__ import annotations

import pytest

from tests.support.scripted_server import Plan, Step, scripted_server
from versectl.apps.models import MAX_LIST_BYTES, first_model, models_url
from versectl.apps.profile import get_profile
from versectl.probe.record import ProbeRequest

JSON = (("Content-Type", "application/json"),)


def test_models_url_keeps_the_subpath() -> None:
    ollama = get_profile("ollama")
    assert models_url(ollama, "http://pi:11434/api/chat") == "http://pi:11434/api/tags"
    assert models_url(ollama, "https://h/ollama/api/chat?x=1") == "https://h/ollama/api/tags"
    assert models_url(ollama, "http://pi:11434/other") is None
    assert models_url(get_profile("dify"), "http://h/v1/chat-messages") is None


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (Plan([Step(0, b'{"models": [{"name": "phi3"}]}')], headers=JSON), "phi3"),
        (Plan([Step(0, b'{"models": []}')], headers=JSON), None),
        (Plan([Step(0, b"<html>")], headers=JSON), None),
        (Plan([Step(0, b'{"error": "unauthorized"}')], status=401, headers=JSON), None),
        (Plan([Step(0, b"[" * (MAX_LIST_BYTES + 10))], headers=JSON), None),
    ],
)
def test_models_first_listed_or_none(plan: Plan, expected: str | None) -> None:
    with scripted_server(plan) as server:
        request = ProbeRequest(url=server.url + "/api/chat", headers=(("Authorization", "k"),))
        assert first_model(get_profile("ollama"), request) == expected
    assert server.requests[0].path == "/api/tags"
    assert server.requests[0].headers["authorization"] == "k"


def test_models_unreachable_is_none() -> None:
    request = ProbeRequest(url="http://127.0.0.1:9/api/chat", connect_timeout=1.0)
    assert first_model(get_profile("ollama"), request) is None
