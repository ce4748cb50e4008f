"""Model providers behind one small protocol (see base.py); `build_provider` picks one."""

from __future__ import annotations

from verse_backend.providers.anthropic import AnthropicProvider
from verse_backend.providers.base import ChatMessage, ChatProvider, ProviderError, TextStream
from verse_backend.providers.simulated import SimulatedProvider
from verse_backend.settings import Settings


def build_provider(settings: Settings) -> ChatProvider:
    """The provider the settings ask for; call inside the event loop that will use it."""
    if settings.effective_provider == "anthropic":
        return AnthropicProvider.from_settings(settings)
    return SimulatedProvider.from_settings(settings)


__all__ = [
    "AnthropicProvider",
    "ChatMessage",
    "ChatProvider",
    "ProviderError",
    "SimulatedProvider",
    "TextStream",
    "build_provider",
]
