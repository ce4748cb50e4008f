"""The garbage collector and the server (verse_backend/collector.py): start-up objects are
frozen out of its reach once per process, full collections are spaced out, and a chat stream
leaves no reference cycle behind (its objects go by reference counting when it ends).

Each case runs in a subprocess: the collector's state is the process's."""

from __future__ import annotations

from pathlib import Path

from tests.support.python_probe import run_python
from verse_backend.collector import FULL_COLLECTION_EVERY

FREEZE_SCRIPT = """
import asyncio, gc, sys
from verse_backend.app import create_app
from verse_backend.settings import Settings

async def start(db):
    app = create_app(Settings(db=db, provider="simulated"))
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()

before = gc.get_threshold()
first = asyncio.run(start(sys.argv[1] + "/a.sqlite3"))
second = asyncio.run(start(sys.argv[1] + "/b.sqlite3"))
print(first, second, *before, *gc.get_threshold())
"""

# The ASGI app called directly (no server: uvicorn's own objects are not ours to judge), with
# streams that complete, streams whose client goes away after the first token, and refused
# requests; then every object the collector would have had to find is counted.
GARBAGE_SCRIPT = """
import asyncio, gc, json, sys
from verse_backend.app import create_app
from verse_backend.settings import Settings

STREAMS = 20

async def call(app, path, body, headers, leave_after_first_token=False):
    sent = []
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    gone = asyncio.Event()
    async def receive():
        if incoming:
            return incoming.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}
    async def send(message):
        if gone.is_set():
            return  # like uvicorn: sends after a disconnect are dropped
        sent.append(message)
        if leave_after_first_token and b"event: token" in message.get("body", b""):
            gone.set()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    await app(scope, receive, send)
    return b"".join(m.get("body", b"") for m in sent)

async def run(db):
    app = create_app(Settings(db=db, provider="simulated", sim_token_ms=0,
                              max_streams_per_session=1000))
    async with app.router.lifespan_context(app):
        sent = []
        async def receive():
            return {"type": "http.request", "body": b"{}", "more_body": False}
        async def send(message):
            sent.append(message)
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/api/session",
                 "raw_path": b"/api/session", "query_string": b"", "root_path": "",
                 "headers": [(b"content-type", b"application/json")],
                 "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
        await app(scope, receive, send)
        cookie = next(v.split(b";")[0] for m in sent if m["type"] == "http.response.start"
                      for k, v in m["headers"] if k == b"set-cookie")
        body = json.dumps({"message": "How do I stream answers through nginx?"}).encode()
        headers = [(b"content-type", b"application/json"), (b"cookie", cookie)]
        warm = await call(app, "/api/standalone-chat", body, headers)
        assert b"event: done" in warm, warm
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        bodies = await asyncio.gather(
            *(call(app, "/api/standalone-chat", body, headers) for _ in range(STREAMS)),
            *(call(app, "/api/standalone-chat", body, headers, leave_after_first_token=True)
              for _ in range(STREAMS)),
            *(call(app, "/api/standalone-chat", body, [(b"content-type", b"application/json")])
              for _ in range(STREAMS)),
        )
        assert sum(b"event: done" in b for b in bodies) == STREAMS, bodies
        assert sum(b"event: token" in b and b"event: done" not in b for b in bodies) == STREAMS
        assert sum(b"no valid session" in b for b in bodies) == STREAMS, bodies
        del bodies
        await asyncio.sleep(0)  # the cancelled streams' last callbacks
        gc.collect()
        gc.set_debug(0)
        kinds = sorted({type(o).__qualname__ for o in gc.garbage})
        print(len(gc.garbage), " ".join(kinds[:12]))

asyncio.run(run(sys.argv[1] + "/g.sqlite3"))
"""


def _run(script: str, tmp_path: Path) -> str:
    return run_python(script, str(tmp_path), timeout=120).stdout


def test_start_up_freezes_once_and_spaces_full_collections(tmp_path: Path) -> None:
    first, second, *thresholds = (int(word) for word in _run(FREEZE_SCRIPT, tmp_path).split())
    assert first > 1000  # the modules' and types' objects
    assert second <= first  # the second app froze nothing more (frozen objects may be freed)
    before, after = thresholds[:3], thresholds[3:]
    assert after == [before[0], before[1], FULL_COLLECTION_EVERY]


def test_chat_streams_leave_no_reference_cycles(tmp_path: Path) -> None:
    count, _, kinds = _run(GARBAGE_SCRIPT, tmp_path).strip().partition(" ")
    assert int(count) == 0, f"cyclic garbage after 60 chat requests: {count} objects ({kinds})"
