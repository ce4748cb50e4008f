"""The floor for bench/backend_load.py: a bare FastAPI StreamingResponse sending the same SSE
events (framing, text, cadence) as verse_backend's simulated model, and nothing else."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import anyio
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

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
