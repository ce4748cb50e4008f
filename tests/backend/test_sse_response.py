"""SseResponse's own disconnect handling (it replaces Starlette's task group): a client that
leaves ends the stream quietly, with the events' `finally` run; anyone else's cancellation goes
on; a receive() that fails ends the stream like a disconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.types import Message

from verse_backend.sse_response import SseResponse

SCOPE = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}}


class Events:
    """Endless events; records how far they got and whether their `finally` ran."""

    def __init__(self) -> None:
        self.sent = 0
        self.closed = False
        self.first = asyncio.Event()

    async def __call__(self) -> AsyncIterator[bytes]:
        try:
            while True:
                self.sent += 1
                yield b"event: token\ndata: {}\n\n"
                self.first.set()
                await asyncio.sleep(0.001)
        finally:
            self.closed = True


async def _serve(events: Events, receive_message: asyncio.Future[Message]) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return await receive_message

    async def send(message: Message) -> None:
        sent.append(message)

    await SseResponse(events())(SCOPE, receive, send)
    return sent


def test_a_client_that_leaves_ends_the_stream_quietly() -> None:
    async def scenario() -> tuple[Events, list[Message]]:
        events = Events()
        disconnect: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(_serve(events, disconnect))
        await events.first.wait()
        disconnect.set_result({"type": "http.disconnect"})
        return events, await asyncio.wait_for(serving, 30)  # no CancelledError escapes

    events, sent = asyncio.run(scenario())
    assert events.closed
    assert sent[0]["type"] == "http.response.start"


def test_another_cancellation_goes_on() -> None:
    async def scenario() -> Events:
        events = Events()
        never: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(_serve(events, never))
        await events.first.wait()
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(serving, 30)
        return events

    assert asyncio.run(scenario()).closed


def test_a_failing_receive_ends_the_stream() -> None:
    async def scenario() -> Events:
        events = Events()
        broken: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        serving = asyncio.create_task(_serve(events, broken))
        await events.first.wait()
        broken.set_exception(ConnectionResetError("gone"))
        await asyncio.wait_for(serving, 30)
        return events

    assert asyncio.run(scenario()).closed
