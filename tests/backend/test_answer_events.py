"""answer_events when the store cannot start the turn: one `event: error` of type
store_unavailable, the model never asked, the stream slot and the open-stream count freed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.backend.doubles import ScriptedProvider
from tests.backend.sse_client import parse_sse
from verse_backend.sessions import StreamSlots
from verse_backend.shutdown import Shutdown
from verse_backend.store import Conversation, Store, StoredMessage, StoreUnavailable
from verse_backend.streaming import answer_events


class _DownStore(Store):
    def start_turn(
        self, conversation: Conversation, user_text: str
    ) -> tuple[list[StoredMessage], int]:
        raise StoreUnavailable("OperationalError")


def test_a_turn_the_store_cannot_start_ends_with_store_unavailable(tmp_path: Path) -> None:
    store = _DownStore(tmp_path / "verse.sqlite3")
    provider = ScriptedProvider(["never"])
    slots = StreamSlots(limit=1)
    shutdown = Shutdown()

    async def run() -> bytes:
        events = answer_events(
            conversation=Conversation("c1", "s1", None),
            user_text="question",
            system="",
            provider=provider,
            store=store,
            slot=slots.acquire("s1"),
            shutdown=shutdown,
        )
        return b"".join([chunk async for chunk in events])

    try:
        events = parse_sse(asyncio.run(run()).decode())
        assert [e.event for e in events] == ["error"]
        assert events[0].json()["type"] == "store_unavailable"
        assert provider.seen == []
        assert slots.active("s1") == 0
        assert asyncio.run(shutdown.wait_idle(0))
    finally:
        store.close()
