"""Encoder for Anthropic's Messages streaming wire format (SSE), event by event.

Used by the simulated provider (so the offline path runs the real SDK's parser) and by the
test suite's fake Anthropic server. Shapes follow the public Messages streaming docs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

STOP_REASONS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal")


def encode_event(name: str, data: dict[str, Any]) -> bytes:
    """One SSE event as Anthropic frames it: `event: NAME`, one `data:` JSON line, a blank line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def message_start(message_id: str, model: str, input_tokens: int) -> bytes:
    return encode_event(
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": 1},
            },
        },
    )


def content_block_start(index: int = 0) -> bytes:
    return encode_event(
        "content_block_start",
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
    )


def ping() -> bytes:
    return encode_event("ping", {"type": "ping"})


def text_delta(text: str, index: int = 0) -> bytes:
    # The same bytes as encode_event's (a test holds them equal), without building and dumping
    # two dicts per token: the simulated model sends one of these every token.
    return b"".join(
        (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":',
            str(int(index)).encode(),
            b',"delta":{"type":"text_delta","text":',
            json.dumps(text).encode(),
            b"}}\n\n",
        )
    )


def content_block_stop(index: int = 0) -> bytes:
    return encode_event("content_block_stop", {"type": "content_block_stop", "index": index})


def message_delta(stop_reason: str, output_tokens: int) -> bytes:
    return encode_event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens},
        },
    )


def message_stop() -> bytes:
    return encode_event("message_stop", {"type": "message_stop"})


def error(error_type: str, message: str) -> bytes:
    """A mid-stream failure as the API sends it (e.g. `overloaded_error` after a 200)."""
    return encode_event(
        "error", {"type": "error", "error": {"type": error_type, "message": message}}
    )


def opening(message_id: str, model: str, input_tokens: int) -> Iterator[bytes]:
    """Everything the API sends before the first text delta."""
    yield message_start(message_id, model, input_tokens)
    yield content_block_start(0)
    yield ping()


def closing(stop_reason: str, output_tokens: int) -> Iterator[bytes]:
    """Everything the API sends after the last text delta of a complete answer."""
    yield content_block_stop(0)
    yield message_delta(stop_reason, output_tokens)
    yield message_stop()
