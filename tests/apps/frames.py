"""A token stream in each app framing, as a scripted backend's steps (tests/support)."""

from __future__ import annotations

import json

from tests.support.scripted_server import SSE_HEADERS, Step

NDJSON_HEADERS: tuple[tuple[str, str], ...] = (("Content-Type", "application/x-ndjson"),)


def _sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def token_steps(
    framing: str, count: int, gap: float
) -> tuple[list[Step], tuple[tuple[str, str], ...]]:
    """`count` tokens `gap` seconds apart in `framing`, with the framing's own extras (pings,
    start and end events) that must not count as tokens; and the response headers."""
    texts = [f"tok{i} " for i in range(count)]
    first: list[bytes] = []
    last: list[bytes] = []
    if framing == "verse":
        frames = [_sse({"text": t}, "token") for t in texts]
        last = [_sse({"tokens": count}, "done")]
    elif framing == "openai":
        first = [_sse({"choices": [{"delta": {"role": "assistant"}}]})]
        frames = [_sse({"choices": [{"delta": {"content": t}}]}) for t in texts]
        last = [b"data: [DONE]\n\n"]
    elif framing == "anthropic":
        first = [_sse({"type": "message_start"}, "message_start")]
        frames = [
            _sse({"type": "content_block_delta", "delta": {"text": t}}, "content_block_delta")
            for t in texts
        ]
        last = [_sse({"type": "message_stop"}, "message_stop")]
    elif framing == "ollama":
        frames = [
            json.dumps({"message": {"role": "assistant", "content": t}, "done": False}).encode()
            + b"\n"
            for t in texts
        ]
        last = [json.dumps({"message": {"content": ""}, "done": True}).encode() + b"\n"]
    elif framing == "dify":
        first = [b"event: ping\n\n"]
        frames = [_sse({"event": "message", "answer": t}) for t in texts]
        last = [_sse({"event": "message_end"})]
    elif framing == "anythingllm":
        frames = [_sse({"type": "textResponseChunk", "textResponse": t}) for t in texts]
        last = [_sse({"type": "textResponseChunk", "textResponse": "", "close": True})]
    elif framing == "sse":
        frames = [_sse(t, "text") for t in texts]
    else:
        raise ValueError(framing)
    steps = [Step(0.0, b) for b in first]
    steps += [Step(gap, frame) for frame in frames]
    steps += [Step(0.0, b) for b in last]
    headers = NDJSON_HEADERS if framing == "ollama" else SSE_HEADERS
    return steps, headers
