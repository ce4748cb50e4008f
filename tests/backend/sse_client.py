"""Client side of the backend tests: log in, and read an SSE response over a real socket,
timing every read (httpx's in-process ASGI transport would buffer whole bodies)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from versectl.probe.sse import SSEParser

CHAT_PATH = "/api/chat/message"
STANDALONE_PATH = "/api/standalone-chat"


@dataclass(frozen=True)
class SseEvent:
    event: str | None
    data: str | None
    comment: str | None = None

    def json(self) -> Any:
        assert self.data is not None, self
        return json.loads(self.data)


class SseReader:
    """versectl's SSE parser (versectl/probe/sse.py), with each comment kept in its place
    among the events as an SseEvent of its own (`event` None)."""

    def __init__(self) -> None:
        self._items: list[SseEvent] = []
        self._parser = SSEParser(on_comment=self._comment)

    def _comment(self, text: str) -> None:
        self._items.append(SseEvent(None, None, text.strip()))

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events and comments `chunk` completed, in wire order."""
        # a line at a time: a comment's callback then comes between the events around it
        for line in chunk.splitlines(keepends=True):
            self._items += [SseEvent(e.event, e.data) for e in self._parser.feed(line)]
        items, self._items = self._items, []
        return items


def parse_sse(text: str) -> list[SseEvent]:
    """Events and comments in wire order."""
    return SseReader().feed(text.encode())


@dataclass
class StreamResult:
    status: int
    headers: httpx.Headers
    reads: list[tuple[float, bytes]] = field(default_factory=list)
    """(seconds since the request was sent, bytes of that socket read)."""

    @property
    def body(self) -> str:
        return b"".join(chunk for _, chunk in self.reads).decode()

    @property
    def events(self) -> list[SseEvent]:
        return parse_sse(self.body)

    def named(self, name: str) -> list[SseEvent]:
        return [event for event in self.events if event.event == name]

    @property
    def text(self) -> str:
        return "".join(event.json()["text"] for event in self.named("token"))


def login(client: httpx.Client, password: str | None = None) -> None:
    response = client.post("/api/session", json={"password": password} if password else {})
    assert response.status_code == 200, response.text


@contextmanager
def new_client(base_url: str, *, logged_in: bool = True) -> Iterator[httpx.Client]:
    """An httpx client for `base_url`, with a fresh session unless `logged_in=False`."""
    with httpx.Client(base_url=base_url, timeout=httpx.Timeout(30.0, connect=10.0)) as client:
        if logged_in:
            login(client)
        yield client


def chat_body(
    message: str = "How does buffering affect streaming?", **extra: Any
) -> dict[str, Any]:
    return {"message": message, "insight_id": 1, **extra}


def read_stream(
    client: httpx.Client, path: str = CHAT_PATH, body: dict[str, Any] | None = None
) -> StreamResult:
    """POST `body` and read the whole response, recording when each socket read arrived."""
    start = time.perf_counter()
    with client.stream("POST", path, json=chat_body() if body is None else body) as response:
        result = StreamResult(response.status_code, response.headers)
        for chunk in response.iter_raw():
            result.reads.append((time.perf_counter() - start, chunk))
    return result


def iter_events(response: httpx.Response) -> Iterator[SseEvent]:
    """The events of a streamed response as each one completes (for tests that act mid-stream).

    Ends quietly when the server cuts the connection: what arrived before is what counts.
    """
    reader = SseReader()
    try:
        for chunk in response.iter_bytes():
            yield from reader.feed(chunk)
    except httpx.RemoteProtocolError:
        return
