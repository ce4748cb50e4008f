"""Test doubles for in-process servers: a scripted provider and a store that signals writes."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI

from tests.support.backend_server import running_app_in_thread
from verse_backend.app import create_app
from verse_backend.deps import get_provider, get_store
from verse_backend.providers.base import ChatMessage
from verse_backend.settings import Settings
from verse_backend.store import MessageStatus, Store

Step = str | float
"""A text chunk to yield, or seconds of silence."""


class ScriptedTextStream:
    """Yields the script's chunks; after them, waits forever when `hang` (until cancelled)."""

    def __init__(self, steps: Sequence[Step], *, hang: bool, closed: threading.Event) -> None:
        self._steps = list(steps)
        self._hang = hang
        self._closed = closed
        self._chunks = self._generate()

    @property
    def stop_reason(self) -> str | None:
        return "end_turn"

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks

    async def aclose(self) -> None:
        await self._chunks.aclose()

    async def _generate(self) -> AsyncGenerator[str, None]:
        try:
            for step in self._steps:
                if isinstance(step, str):
                    yield step
                else:
                    await anyio.sleep(step)
            if self._hang:
                await anyio.sleep_forever()
        finally:
            self._closed.set()


class ScriptedProvider:
    """A ChatProvider that plays `steps`; `closed` is set when a stream ends or is cancelled."""

    name = "scripted"

    def __init__(self, steps: Sequence[Step], *, hang: bool = False) -> None:
        self.steps = steps
        self.hang = hang
        self.closed = threading.Event()
        self.seen: list[Sequence[ChatMessage]] = []

    def stream(self, messages: Sequence[ChatMessage], *, system: str) -> ScriptedTextStream:
        self.seen.append(messages)
        return ScriptedTextStream(self.steps, hang=self.hang, closed=self.closed)

    async def aclose(self) -> None:
        return None


class RecordingStore(Store):
    """A Store that sets `answer_stored` after each assistant answer is finished."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.answer_stored = threading.Event()
        self.answers: list[tuple[str, MessageStatus]] = []

    def finish_answer(
        self, answer_id: int, status: MessageStatus, stop_reason: str | None = None, text: str = ""
    ) -> None:
        super().finish_answer(answer_id, status, stop_reason, text)
        answer = self.answer(answer_id)
        assert answer is not None
        self.answers.append((answer.content, status))
        self.answer_stored.set()


def settings_for_test(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"db": tmp_path / "db" / "verse.sqlite3", "provider": "simulated"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def serving(
    app: FastAPI, provider: ScriptedProvider | None = None, store: Store | None = None
) -> Iterator[str]:
    """Serve `app` in a thread, with the provider and/or store replaced."""
    if provider is not None:
        app.dependency_overrides[get_provider] = lambda: provider
    if store is not None:
        app.dependency_overrides[get_store] = lambda: store
    with running_app_in_thread(app) as url:
        yield url


def scripted_app(tmp_path: Path, **overrides: object) -> FastAPI:
    return create_app(settings_for_test(tmp_path, **overrides))
