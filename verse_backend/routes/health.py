"""GET /api/health: liveness for compose healthchecks and `versectl doctor`."""

from __future__ import annotations

from fastapi import APIRouter

from verse_backend import __version__
from verse_backend.deps import ProviderDep
from verse_backend.schemas import HealthOut

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health")
async def health(provider: ProviderDep) -> HealthOut:
    return HealthOut(status="ok", provider=provider.name, version=__version__)
