"""The app profiles: every file loads and is complete, endpoints match their paths (also under a
subpath), bodies fill in, images and compose files name the app and its port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from versectl.apps.detect import app_in_compose, choose_app
from versectl.apps.profile import PROFILE_NAMES, all_profiles, get_profile, profile_for_image
from versectl.errors import InputError
from versectl.nginx.backend_port import resolve_backend_port
from versectl.probe.framing import FRAMINGS


def test_profiles_every_one_is_complete() -> None:
    assert [p.name for p in all_profiles()] == list(PROFILE_NAMES)
    for profile in all_profiles():
        assert 0 < profile.port < 65536 and profile.heartbeat > 0 and profile.streams
        for stream in profile.streams:
            assert stream.uri.startswith("/") and stream.framing in FRAMINGS
            assert stream.matches(stream.uri), stream
            body = json.loads(stream.request_body("hello", "m1"))
            assert "@MESSAGE@" not in json.dumps(body) and "@MODEL@" not in json.dumps(body)
        assert all(ws.startswith("/") for ws in profile.websockets)


def test_profiles_unknown_app_is_input_error() -> None:
    with pytest.raises(InputError, match=r"unknown app.*ollama"):
        get_profile("olama")


def test_profiles_stream_for_variable_segment_and_subpath() -> None:
    anything = get_profile("anything-llm")
    spec = anything.stream_for("/api/v1/workspace/sales/stream-chat")
    assert spec is not None and spec.framing == "anythingllm"
    assert anything.stream_for("/api/v1/workspace/a/b/stream-chat") is None
    ollama = get_profile("ollama")
    under = ollama.stream_for("/ollama/api/chat")
    assert under is not None and under.uri == "/api/chat"
    assert ollama.stream_for("/api/tags") is None


def test_profiles_body_model_override() -> None:
    spec = get_profile("ollama").streams[0]
    assert json.loads(spec.request_body("hi"))["model"] == "llama3.2"
    body = json.loads(spec.request_body("hi", "qwen2.5:7b"))
    assert body["model"] == "qwen2.5:7b" and body["messages"][0]["content"] == "hi"


@pytest.mark.parametrize(
    ("image", "app", "port"),
    [
        ("ghcr.io/open-webui/open-webui:main", "open-webui", 8080),
        ("ollama/ollama", "ollama", 11434),
        ("ghcr.io/berriai/litellm:main-stable", "openai-compatible", 4000),
        ("vllm/vllm-openai:v0.6.0", "openai-compatible", 8000),
        ("ghcr.io/ggml-org/llama.cpp:server", "openai-compatible", 8080),
        ("langgenius/dify-api:1.0.0", "dify", 5001),
        ("lobehub/lobe-chat@sha256:abc", "lobe-chat", 3210),
        ("mintplexlabs/anythingllm", "anything-llm", 3001),
        ("ghcr.io/danny-avila/librechat-dev:latest", "librechat", 3080),
        ("ghcr.io/danny-avila/librechat-rag-api-dev-lite:latest", None, None),
        ("nginx:1.25", None, None),
    ],
)
def test_profiles_image_names_the_app(image: str, app: str | None, port: int | None) -> None:
    found = profile_for_image(image)
    assert (found[0].name, found[1]) == (app, port) if found else (app, port) == (None, None)


def _compose(tmp_path: Path, text: str) -> str:
    path = tmp_path / "compose.yml"
    path.write_text(text)
    return str(path)


def test_compose_app_port_from_the_mapping(tmp_path: Path) -> None:
    path = _compose(
        tmp_path,
        "services:\n  nginx:\n    image: nginx\n    ports: ['80:80']\n"
        "  webui:\n    image: ghcr.io/open-webui/open-webui:main\n    ports: ['3000:8080']\n",
    )
    found = app_in_compose(path)
    assert found is not None and (found.profile.name, found.service, found.port) == (
        "open-webui",
        "webui",
        3000,
    )
    backend = resolve_backend_port(None, path)
    assert (backend.port, backend.source, backend.app) == (3000, "compose", "open-webui")
    assert choose_app(None, path) is found.profile


def test_compose_app_not_published_is_the_image_port(tmp_path: Path) -> None:
    path = _compose(tmp_path, "services:\n  llm:\n    image: ollama/ollama\n")
    backend = resolve_backend_port(None, path)
    assert (backend.port, backend.source, backend.app) == (11434, "compose", "ollama")


def test_profile_port_ignores_another_apps_compose(tmp_path: Path) -> None:
    # verse's own compose file beside the config says nothing of where Ollama listens
    path = _compose(
        tmp_path, "services:\n  backend:\n    image: verse-backend\n    ports: ['7776:7776']\n"
    )
    backend = resolve_backend_port(None, path, get_profile("ollama"))
    assert (backend.port, backend.source, backend.app) == (11434, "profile", "ollama")
    assert resolve_backend_port(None, path).source == "compose"  # verse: today's behaviour
    assert resolve_backend_port(9, path, get_profile("ollama")).source == "flag"
