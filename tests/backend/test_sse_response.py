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


class Serving:
    """An SseResponse over endless Events, serving in a task; `client` is what the next
    receive() will return (or raise), once set."""

    def __init__(self) -> None:
        self.events = Events()
        self.client: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self.sent: list[Message] = []
        self.task = asyncio.create_task(self._serve())

    async def _serve(self) -> None:
        async def receive() -> Message:
            return await self.client

        async def send(message: Message) -> None:
            self.sent.append(message)

        await SseResponse(self.events())(SCOPE, receive, send)

    async def streaming(self) -> Serving:
        await self.events.first.wait()
        return self

    async def end(self) -> None:
        await asyncio.wait_for(self.task, 30)


def test_a_client_that_leaves_ends_the_stream_quietly() -> None:
    async def scenario() -> Serving:
        serving = await Serving().streaming()
        serving.client.set_result({"type": "http.disconnect"})
        await serving.end()  # returns: no CancelledError escapes
        return serving

    serving = asyncio.run(scenario())
    assert serving.events.closed
    assert serving.sent[0]["type"] == "http.response.start"


def test_another_cancellation_goes_on() -> None:
    async def scenario() -> Serving:
        serving = await Serving().streaming()
        serving.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving.end()
        return serving

    assert asyncio.run(scenario()).events.closed


def test_a_failing_receive_ends_the_stream() -> None:
    async def scenario() -> Serving:
        serving = await Serving().streaming()
        serving.client.set_exception(ConnectionResetError("gone"))
        await serving.end()
        return serving

    assert asyncio.run(scenario()).events.closed
