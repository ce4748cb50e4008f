"""The simulated provider: deterministic text, paced tokens, and the real SDK underneath,
with no network at all."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from verse_backend.providers.base import ChatMessage
from verse_backend.providers.simulated import SimulatedProvider
from verse_backend.providers.simulated_text import MAX_TOKENS, MIN_TOKENS, simulated_answer
from verse_backend.settings import Settings

QUESTION = "Why does nginx buffering break token streaming?"


def test_simulated_answer_is_deterministic_and_sized() -> None:
    tokens = simulated_answer(QUESTION)
    assert tokens == simulated_answer(QUESTION)
    assert MIN_TOKENS <= len(tokens) <= MAX_TOKENS
    assert tokens[0][0] != " " and all(t.startswith(" ") for t in tokens[1:])
    text = "".join(tokens)
    assert text.rstrip().endswith((".", "!", "?"))
    assert any(word in text for word in ("nginx", "buffering", "streaming", "token"))


def test_simulated_answer_differs_by_question_and_turn() -> None:
    assert simulated_answer(QUESTION) != simulated_answer("Tell me about sqlite durability")
    assert simulated_answer(QUESTION, turn=1) != simulated_answer(QUESTION, turn=2)
    assert simulated_answer("") and simulated_answer("?!")


def _stream(
    settings: Settings, messages: list[ChatMessage]
) -> tuple[list[str], list[float], str | None]:
    async def run() -> tuple[list[str], list[float], str | None]:
        provider = SimulatedProvider.from_settings(settings)
        chunks: list[str] = []
        times: list[float] = []
        try:
            stream = provider.stream(messages, system="")
            async for chunk in stream:
                chunks.append(chunk)
                times.append(time.perf_counter())
            return chunks, times, stream.stop_reason
        finally:
            await provider.aclose()

    return asyncio.run(run())


def test_simulated_provider_streams_through_the_sdk_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the simulated provider touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    settings = Settings(db=tmp_path / "db", sim_token_ms=0)
    messages = [
        ChatMessage("user", "first"),
        ChatMessage("assistant", "reply"),
        ChatMessage("user", QUESTION),
    ]
    chunks, _times, stop_reason = _stream(settings, messages)
    assert chunks == simulated_answer(QUESTION, turn=2)
    assert stop_reason == "end_turn"


def test_simulated_provider_paces_tokens(tmp_path: Path) -> None:
    token_ms = 20
    settings = Settings(db=tmp_path / "db", sim_token_ms=token_ms)
    chunks, times, _ = _stream(settings, [ChatMessage("user", QUESTION)])
    assert len(chunks) >= MIN_TOKENS
    # Deadlines from one start: no token ahead of its slot (an unpaced provider sends them all at
    # once) and no drift over the whole answer. A stalled machine may make tokens late and then
    # catch up in a burst, so the bounds are one-sided where load can only add delay.
    offsets = [(t - times[0]) * 1000 for t in times]
    early = [(i, off) for i, off in enumerate(offsets) if off < i * token_ms - token_ms * 0.5]
    assert early == [], early
    schedule = token_ms * (len(chunks) - 1)
    assert schedule * 0.9 <= offsets[-1] <= schedule * 2
