"""The floors for bench/backend_load.py: a bare FastAPI StreamingResponse sending the same SSE
events (framing, text, cadence) as verse_backend's simulated model, and nothing else
(`create_app`); and the same with the text read through the simulated provider's SDK call
(`create_sdk_app`)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from verse_backend.prompts import STANDALONE_SYSTEM as SYSTEM
from verse_backend.providers.base import ChatMessage
from verse_backend.providers.simulated import SimulatedProvider
from verse_backend.providers.simulated_text import simulated_answer


def _event(name: str, data: dict[str, object]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def create_app() -> FastAPI:
    app = FastAPI()
    token_s = int(os.environ.get("VERSE_SIM_TOKEN_MS", "30")) / 1000

    async def events(question: str) -> AsyncIterator[bytes]:
        tokens = simulated_answer(question, turn=1)
        start = anyio.current_time()  # deadlines from one start, like the simulated model
        for index, token in enumerate(tokens, start=1):
            await anyio.sleep_until(start + index * token_s)
            yield _event("token", {"text": token})
        yield _event("done", {"conversation_id": "-", "tokens": len(tokens), "stop_reason": None})

    @app.post("/api/standalone-chat")
    async def chat(body: dict[str, str]) -> StreamingResponse:
        return StreamingResponse(events(body.get("message", "")), media_type="text/event-stream")

    return app


def create_sdk_app() -> FastAPI:
    """The floor plus the property the issue keeps: the same events, their text read through
    verse_backend's simulated provider (the Anthropic SDK over the in-process transport), and
    nothing else (no session, store, limits or deadlines). The gap between this and the
    minimal app is what running production's provider code offline costs."""
    app = FastAPI()
    token_ms = int(os.environ.get("VERSE_SIM_TOKEN_MS", "30"))
    provider = SimulatedProvider(token_ms=token_ms, max_tokens=1024)

    async def events(question: str) -> AsyncIterator[bytes]:
        stream = provider.stream([ChatMessage(role="user", content=question)], system=SYSTEM)
        count = 0
        async for token in stream:
            count += 1
            yield _event("token", {"text": token})
        yield _event("done", {"conversation_id": "-", "tokens": count, "stop_reason": None})

    @app.post("/api/standalone-chat")
    async def chat(body: dict[str, str]) -> StreamingResponse:
        return StreamingResponse(events(body.get("message", "")), media_type="text/event-stream")

    return app
