"""The uvicorn server `verse-backend` runs: on shutdown it first tells open streams to finish,
so they end with a stored answer and an `event: error` instead of a cut connection."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from verse_backend.log_limits import log_config
from verse_backend.shutdown import Shutdown

# Of the graceful timeout, the part kept for the streams' last event to reach the clients and
# for their connections to close before uvicorn cancels what is left.
_CLOSE_MARGIN_S = 0.5


def stream_grace_s(timeout_graceful_shutdown: float) -> float:
    """How long open streams may keep answering after a shutdown signal."""
    return max(0.0, timeout_graceful_shutdown - min(_CLOSE_MARGIN_S, timeout_graceful_shutdown / 2))


class DrainingServer(uvicorn.Server):
    """uvicorn.Server that starts the streams' shutdown deadline when it stops accepting."""

    def __init__(self, config: uvicorn.Config, shutdown: Shutdown) -> None:
        super().__init__(config)
        self._streams_shutdown = shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        timeout = self.config.timeout_graceful_shutdown
        if timeout is not None:
            self._streams_shutdown.begin(stream_grace_s(timeout))
        await super().shutdown(sockets)


def serve(app: FastAPI, **options: Any) -> None:
    """Run `app` like `uvicorn.run(app, **options)`, through DrainingServer, with repeated log
    messages collapsed (log_limits)."""
    options.setdefault("log_config", log_config(LOGGING_CONFIG))
    server = DrainingServer(uvicorn.Config(app, **options), app.state.shutdown)
    server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn.run's STARTUP_FAILURE; uvicorn logged why
