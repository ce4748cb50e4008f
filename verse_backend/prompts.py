"""The system prompts of the two chat routes."""

from __future__ import annotations

from verse_backend.store import Insight

STANDALONE_SYSTEM = "You are a helpful, concise assistant. Answer in plain prose."


def system_prompt(insight: Insight | None) -> str:
    """About `insight` for /api/chat/message; the standalone prompt without one."""
    if insight is None:
        return STANDALONE_SYSTEM
    return (
        "You are a helpful, concise assistant. The user is reading this insight and asks "
        f"about it.\n\nTitle: {insight.title}\n\n{insight.body}"
    )
