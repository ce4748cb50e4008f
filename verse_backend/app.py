"""The application factory: `create_app(settings)`; also `uvicorn --factory verse_backend.app:create_app`."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from verse_backend import __version__
from verse_backend.collector import prepare_collector
from verse_backend.databases import describe, open_store
from verse_backend.errors import install_error_handlers
from verse_backend.login_limiter import LoginLimiter
from verse_backend.providers import build_provider
from verse_backend.routes import chat, health, session
from verse_backend.sessions import SessionManager, StreamSlots, password_fingerprint
from verse_backend.settings import Settings, check_exposure, load_settings, session_secret
from verse_backend.shutdown import Shutdown
from verse_backend.stream_leases import leases_kept

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
# After uvicorn cancelled the streams still open, how long their `finally` gets to mark the
# answer interrupted before the store closes under it.
STREAM_FINALIZE_S = 2.0


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. Settings come from the environment when not given.

    Raises (pydantic ValidationError / UnsafeConfigurationError) on a configuration that must
    not run, so a server started through this factory refuses to start instead of serving.
    """
    if settings is None:
        settings = load_settings()
    else:
        check_exposure(settings)  # also for settings built with model_construct or copies

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Built inside the running loop: the provider's HTTP client belongs to it.
        app.state.store = open_store(settings)
        # Sessions of another password (it changed) or past their time end here.
        app.state.store.purge_sessions(app.state.sessions.password_fp, time.time())
        app.state.provider = build_provider(settings)
        prepare_collector()
        logger.info(
            "verse_backend %s: provider %s, db %s",
            __version__,
            app.state.provider.name,
            describe(settings),
        )
        try:
            # Runs through uvicorn's drain of open connections, which precedes this shutdown.
            async with leases_kept(app.state.store, settings.stream_lease_seconds):
                yield
        finally:
            if not await app.state.shutdown.wait_idle(STREAM_FINALIZE_S):
                logger.warning("closing the store with streams still open")
            await app.state.provider.aclose()
            app.state.store.close()  # on PostgreSQL, also drops this replica's lease

    app = FastAPI(
        title="verse_backend",
        version=__version__,
        lifespan=lifespan,
        # Starlette counts the bytes as they arrive (and checks Content-Length first): 413.
        max_body_size=MAX_BODY_BYTES,
        # No OpenTelemetry export here; left on, FastAPI asks OpenTelemetry for its global
        # providers at every request (a third of a millisecond each, py-spy under load).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    secret = session_secret(settings)
    password = settings.password.get_secret_value() if settings.password else None
    app.state.sessions = SessionManager(secret, password_fingerprint(secret, password))
    app.state.login_limiter = LoginLimiter(
        burst=settings.login_burst, per_minute=settings.login_per_minute
    )
    app.state.shutdown = Shutdown()
    app.state.stream_slots = StreamSlots(limit=settings.max_streams_per_session)
    install_error_handlers(app)
    app.include_router(session.router)
    app.include_router(chat.router)
    app.include_router(health.router)
    return app
