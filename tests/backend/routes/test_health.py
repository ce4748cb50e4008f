"""GET /api/health."""

from __future__ import annotations

import httpx

import verse_backend


def test_health_reports_provider_and_version(backend_url: str, anthropic_backend_url: str) -> None:
    simulated = httpx.get(backend_url + "/api/health").json()
    real = httpx.get(anthropic_backend_url + "/api/health").json()
    assert simulated == {
        "status": "ok",
        "provider": "simulated",
        "version": verse_backend.__version__,
    }
    assert real["provider"] == "anthropic"
