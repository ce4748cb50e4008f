"""How an app frames its tokens inside the stream: which events carry model output, their text,
and which event ends the answer. One table for every profile (versectl/apps/profiles)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from versectl.probe.record import Arrival

NDJSON_EVENT = "ndjson"
"""The `event` of an Arrival that is one NDJSON line (versectl/probe/ndjson.py)."""


def payload(arrival: Arrival) -> dict[str, object] | None:
    """The event's data as a JSON object, or None (not JSON, or not an object)."""
    text = arrival.data.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _field(value: object, *path: str | int) -> object:
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, list) or len(value) <= key:
                return None
            value = value[key]
        else:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
    return value


def _string(value: object) -> str:
    return value if isinstance(value, str) else ""


def openai_text(data: dict[str, object] | None) -> str:
    """choices[0].delta.content (chat) or choices[0].text (completions)."""
    return _string(_field(data, "choices", 0, "delta", "content")) or _string(
        _field(data, "choices", 0, "text")
    )


def ollama_text(data: dict[str, object] | None) -> str:
    """message.content (/api/chat) or response (/api/generate)."""
    return _string(_field(data, "message", "content")) or _string(_field(data, "response"))


@dataclass(frozen=True)
class Framing:
    name: str
    wire: str
    """"sse" or "ndjson": the stream's syntax (its Content-Type)."""
    describe: str
    is_token: Callable[[Arrival], bool]
    text: Callable[[Arrival], str]
    is_terminator: Callable[[Arrival], bool]


def _done_marker(arrival: Arrival) -> bool:
    return arrival.data.strip() == "[DONE]"


def _ollama_done(arrival: Arrival) -> bool:
    return _field(payload(arrival), "done") is True


_DIFY_TEXT_EVENTS = ("message", "agent_message", "text_chunk")

FRAMINGS: dict[str, Framing] = {
    framing.name: framing
    for framing in (
        Framing(
            "verse",
            "sse",
            'SSE `event: token` with data {"text": ...}, then `event: done`',
            lambda a: a.event == "token",
            lambda a: _string(_field(payload(a), "text")),
            lambda a: a.event == "done",
        ),
        Framing(
            "openai",
            "sse",
            "SSE `data:` chunks with choices[].delta.content, ended by `data: [DONE]`",
            lambda a: not _done_marker(a) and bool(openai_text(payload(a))),
            lambda a: openai_text(payload(a)),
            _done_marker,
        ),
        Framing(
            "anthropic",
            "sse",
            "SSE `event: content_block_delta` with delta.text, ended by `event: message_stop`",
            lambda a: a.event == "content_block_delta",
            lambda a: _string(_field(payload(a), "delta", "text")),
            lambda a: a.event == "message_stop",
        ),
        Framing(
            "ollama",
            "ndjson",
            "NDJSON (application/x-ndjson): a JSON object a line with message.content or "
            'response, the last with "done": true',
            lambda a: not _ollama_done(a) and bool(ollama_text(payload(a))),
            lambda a: ollama_text(payload(a)),
            _ollama_done,
        ),
        Framing(
            "dify",
            "sse",
            "SSE `data:` JSON with event message/agent_message carrying `answer`, "
            "ended by event message_end (workflow_finished)",
            lambda a: _field(payload(a), "event") in _DIFY_TEXT_EVENTS,
            lambda a: (
                _string(_field(payload(a), "answer")) or _string(_field(payload(a), "data", "text"))
            ),
            lambda a: _field(payload(a), "event") in ("message_end", "workflow_finished"),
        ),
        Framing(
            "anythingllm",
            "sse",
            "SSE `data:` JSON with type textResponseChunk carrying textResponse, the last "
            "with close: true",
            lambda a: (
                _field(payload(a), "type") == "textResponseChunk"
                and bool(_field(payload(a), "textResponse"))
            ),
            lambda a: _string(_field(payload(a), "textResponse")),
            lambda a: _field(payload(a), "close") is True,
        ),
        Framing(
            "sse",
            "sse",
            "SSE: every data event that is neither a ping nor a terminator counts as a token",
            lambda a: a.event != "ping" and not _done_marker(a),
            lambda a: a.data,
            _done_marker,
        ),
    )
}
