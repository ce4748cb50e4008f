"""Real servers for backend tests: verse_backend under uvicorn, and a fake Anthropic API.

- `running_backend(tmp_path, env)`: uvicorn serving verse_backend in a subprocess, on a socket
  this process bound and passed down (no port race, no readiness polling: connections wait
  in the listen backlog until the app has started). `entry="verse-backend"` runs the
  production entry point (its shutdown drain, connection guard and log limits) instead of
  the bare `uvicorn --factory`.
- `running_app_in_thread(app)`: uvicorn serving an app object in a thread of this process, for
  tests that need to reach inside it (dependency overrides, monkeypatched FastAPI internals).
- `fake_anthropic_server()`: a real HTTP server speaking Anthropic's Messages SSE wire format
  (verse_backend.providers.anthropic_wire) with scripted misbehaviour, recording every request
  and the moment a client hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import uvicorn
from starlette.types import ASGIApp

from tests.support.scripted_server import read_request
from tests.support.thread_server import listening_socket, serving_in_thread
from verse_backend.providers import anthropic_wire as wire

STOP_TIMEOUT_S = 10.0
_LOG_TAIL_CHARS = 4000


def backend_env(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The subprocess environment: ours minus anything that configures the backend or the
    SDK (no key leaks in from the developer's shell), a DB under `tmp_path`, simulated model."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VERSE_", "ANTHROPIC_"))
    }
    clean["VERSE_DB"] = str(tmp_path / "verse-backend" / "verse.sqlite3")
    clean["VERSE_PROVIDER"] = "simulated"
    clean.update(env or {})
    return clean


def _log_tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no server log)"
    return text[-_LOG_TAIL_CHARS:]


class BackendDiedError(RuntimeError):
    """The backend subprocess exited on its own; the message holds the end of its log."""


Entry = Literal["uvicorn", "verse-backend"]


@dataclass
class BackendProcess:
    """What `running_backend(..., handle=...)` fills in: the process and its log."""

    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None


@contextmanager
def running_backend(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    *,
    entry: Entry = "uvicorn",
    args: list[str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    handle: BackendProcess | None = None,
    factory: str = "verse_backend.app:create_app",
) -> Iterator[str]:
    """Start a real uvicorn serving verse_backend in a subprocess on an ephemeral loopback port;
    yield base URL like 'http://127.0.0.1:PORT'; stop it on exit.

    `env` adds to / overrides the subprocess environment (see `backend_env`). The DB is
    `tmp_path/verse-backend/verse.sqlite3`, so a second call with the same `tmp_path` serves
    the same data (restart tests). The server's log is `tmp_path/backend-PORT.log`; when the
    server died, it is attached to the exception. `args` go to the command line (after the
    defaults, so they win); `handle` receives the process for tests that signal it themselves
    (a process that exited on a signal the test sent is not an error). `factory` is the app
    uvicorn builds (entry "uvicorn"; the benches' floor app is another one).
    """
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    log_path = tmp_path / f"backend-{port}.log"
    if entry == "uvicorn":
        command = [sys.executable, "-m", "uvicorn", "--factory", factory]
    else:
        command = [sys.executable, "-m", "verse_backend"]
    # Open streams would otherwise hold the shutdown for long.
    command += ["--fd", str(sock.fileno()), "--timeout-graceful-shutdown", "1", *(args or [])]
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(
                command,
                env=backend_env(tmp_path, env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(sock.fileno(),),
                preexec_fn=preexec_fn,
            )
        finally:
            # Only the child holds the socket now: if it dies, clients are refused at once
            # instead of waiting in a backlog nobody will ever accept from.
            sock.close()
    if handle is not None:
        handle.process, handle.log_path = process, log_path
    try:
        yield f"http://127.0.0.1:{port}"
    except BaseException as exc:
        if process.poll() is not None:
            exc.add_note(f"backend exited with {process.returncode}; log:\n{_log_tail(log_path)}")
        raise
    finally:
        returncode = process.poll()
        _stop(process)
    if returncode is not None and handle is None:
        raise BackendDiedError(
            f"backend exited on its own with {returncode}; log:\n{_log_tail(log_path)}"
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_app_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread of this process; yield its base URL.

    For tests that override dependencies or patch module state the server reads (e.g.
    `fastapi.routing._PING_INTERVAL`). Stopped (graceful timeout 1 s) on exit.
    """
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", timeout_graceful_shutdown=1, lifespan="on", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        sock.close()
    if thread.is_alive():
        raise RuntimeError("in-thread uvicorn did not stop")
    if not server.started:
        raise RuntimeError("in-thread uvicorn never started (see the captured log)")


# --- A fake Anthropic Messages API ------------------------------------------------------------

Ending = Literal["complete", "overloaded", "drop", "truncated"]


@dataclass
class FakeScript:
    """What the fake API answers to the next request(s) to POST /v1/messages.

    ending:
      complete   - all tokens, then content_block_stop, message_delta, message_stop.
      overloaded - `fail_after` tokens, then `event: error` (overloaded_error), body ends.
      drop       - `fail_after` tokens, then the TCP connection is aborted mid-body.
      truncated  - `fail_after` tokens, then the body ends cleanly without message_stop.
    status other than 200: no stream at all, an error response with that status and the
    matching Anthropic error type in a JSON body (529 overloaded_error, 429 rate_limit_error...).
    """

    tokens: list[str] = field(default_factory=lambda: [f"word{i} " for i in range(12)])
    token_interval: float = 0.0
    first_token_delay: float = 0.0
    ending: Ending = "complete"
    fail_after: int = 3
    stop_reason: str = "end_turn"
    headers_delay: float = 0.0
    status: int = 200


@dataclass
class FakeRequest:
    """One request the fake API received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    script: FakeScript
    client_closed: threading.Event = field(default_factory=threading.Event)
    """Set when the client closed the connection before the script had finished."""
    finished: threading.Event = field(default_factory=threading.Event)
    """Set when the server is done with this request, however it ended."""
    tokens_sent: int = 0


@dataclass
class FakeAnthropic:
    """Handle to a running fake API. Set `script` before a request; inspect `requests` after."""

    base_url: str
    script: FakeScript = field(default_factory=FakeScript)
    requests: list[FakeRequest] = field(default_factory=list)
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def record(self, request: FakeRequest) -> None:
        with self._arrived:
            self.requests.append(request)
            self._arrived.notify_all()

    def wait_request(self, index: int, timeout: float) -> FakeRequest:
        """The `index`-th request (0-based), waiting up to `timeout` s for it to arrive.

        Take `index = len(fake.requests)` before sending to get the request you cause next.
        """
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) > index, timeout):
                raise TimeoutError(f"the fake Anthropic API got no request #{index}")
            return self.requests[index]


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_STATUS_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


async def _play(script: FakeScript, request: FakeRequest, writer: asyncio.StreamWriter) -> None:
    """Write the scripted response; return normally when the body is complete (or aborted)."""
    if script.headers_delay:
        await asyncio.sleep(script.headers_delay)
    if script.status != 200:
        error_type = _STATUS_ERROR_TYPES.get(script.status, "api_error")
        body = json.dumps(
            {"type": "error", "error": {"type": error_type, "message": f"fake {error_type}"}}
        ).encode()
        writer.write(
            b"HTTP/1.1 %d Fake\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (script.status, len(body), body)
        )
        await writer.drain()
        return
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
        b"cache-control: no-cache\r\nrequest-id: req_fake\r\n"
        b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    model = str(request.body.get("model", "fake-model"))
    for data in wire.opening("msg_fake", model, input_tokens=5):
        writer.write(_chunk(data))
    await writer.drain()
    failing = script.ending != "complete"
    count = min(script.fail_after, len(script.tokens)) if failing else len(script.tokens)
    for index, token in enumerate(script.tokens[:count]):
        delay = script.first_token_delay if index == 0 else script.token_interval
        if delay:
            await asyncio.sleep(delay)
        writer.write(_chunk(wire.text_delta(token)))
        await writer.drain()
        request.tokens_sent += 1
    if script.ending == "drop":
        writer.transport.abort()
        return
    if script.ending == "overloaded":
        writer.write(_chunk(wire.error("overloaded_error", "Overloaded")))
    elif script.ending == "complete":
        for data in wire.closing(script.stop_reason, output_tokens=count):
            writer.write(_chunk(data))
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def _make_handler(fake: FakeAnthropic) -> Any:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request: FakeRequest | None = None
        watcher: asyncio.Task[bytes] | None = None
        try:
            request = await read_request(reader)
            method, path, headers, raw = request.method, request.path, request.headers, request.body
            if method != "POST" or not path.startswith("/v1/messages"):
                body = json.dumps(
                    {"type": "error", "error": {"type": "not_found_error", "message": "no"}}
                ).encode()
                writer.write(
                    b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
                return
            request = FakeRequest(method, path, headers, json.loads(raw or b"{}"), fake.script)
            fake.record(request)
            # The client sends nothing more; EOF on the read side means it hung up.
            watcher = asyncio.ensure_future(reader.read())
            player = asyncio.ensure_future(_play(request.script, request, writer))
            done, _pending = await asyncio.wait(
                {watcher, player}, return_when=asyncio.FIRST_COMPLETED
            )
            if watcher in done and player not in done:
                request.client_closed.set()
                player.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await player
            else:
                player.result()
        except (ConnectionError, asyncio.IncompleteReadError):
            if request is not None:
                request.client_closed.set()
        finally:
            if watcher is not None:
                watcher.cancel()
                # Retrieve its outcome (a reset connection, say) so asyncio does not log it.
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await watcher
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            if request is not None:
                request.finished.set()

    return handle


@contextmanager
def fake_anthropic_server(script: FakeScript | None = None) -> Iterator[FakeAnthropic]:
    """Serve a fake Anthropic Messages API on an ephemeral loopback port, in a thread.

    Point the SDK at it with `base_url=fake.base_url` (or ANTHROPIC_BASE_URL). Each connection
    gets one response (`connection: close`), following `fake.script` as it is when the request
    arrives.
    """
    sock = listening_socket()
    fake = FakeAnthropic(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    if script is not None:
        fake.script = script
    with serving_in_thread(sock, _make_handler(fake)):
        yield fake
