"""Two verse_backend replicas on one real PostgreSQL behind one real nginx `upstream`
(the shipped nginx-verse-replicas.conf): a conversation started on one continues on the other;
an answer a SIGKILLed replica left streaming is marked interrupted by the other one."""

from __future__ import annotations

import math
import signal
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg

from nginx_templates import api_location, read_template
from tests.backend.conftest import FAKE_API_KEY
from tests.backend.sse_client import SseEvent, iter_events, new_client, read_stream
from tests.support.backend_server import (
    BackendProcess,
    FakeAnthropic,
    FakeScript,
    running_backend,
)
from tests.support.nginx import NginxServer
from tests.support.postgres import PostgresServer
from tests.support.waiting import wait_until
from verse_backend.answer_writer import FLUSH_S

REPLICAS_SITE = "nginx-verse-replicas.conf"
STANDALONE = "/api/standalone-chat"


def _site(ports: list[int], root: Path) -> str:
    """The shipped template on loopback: our listen port, the replicas' ports, a temp root."""
    site = read_template(REPLICAS_SITE)
    site = site.replace("server 127.0.0.1:7776;", f"server 127.0.0.1:{ports[0]};")
    site = site.replace("server 127.0.0.1:7777;", f"server 127.0.0.1:{ports[1]};")
    site = site.replace("    listen 80;\n    listen [::]:80;\n", "    listen 127.0.0.1:@PORT@;\n")
    return site.replace("root /var/www/verse;", f"root {root};")


def test_replicas_template_carries_the_known_good_api_block() -> None:
    # One place for the /api block's knowledge: only proxy_pass (and its comment) differ.
    def lines(text: str) -> list[str]:
        block = text[text.index("location /api {") :]
        return [line.strip() for line in block.splitlines() if "proxy_pass" not in line]

    known_good = [line for line in lines(api_location()) if not line.startswith("#")]
    replicas = [line for line in lines(read_template(REPLICAS_SITE)) if not line.startswith("#")]
    assert replicas[: len(known_good)] == known_good


def _served_chat(handle: BackendProcess) -> int:
    assert handle.log_path is not None
    return handle.log_path.read_text(errors="replace").count(f"POST {STANDALONE}")


def test_a_conversation_started_on_one_replica_continues_on_the_other(
    tmp_path: Path, postgres: PostgresServer, nginx: Callable[[str], NginxServer]
) -> None:
    env = {"VERSE_DATABASE_URL": postgres.new_database(), "VERSE_SECRET_KEY": "r" * 40}
    env["VERSE_SIM_TOKEN_MS"] = "1"
    for i in range(2):  # the backend's log goes there, before its DB would
        (tmp_path / f"replica{i}").mkdir()
    (tmp_path / "www").mkdir()
    stacks = [ExitStack(), ExitStack()]
    handles = [BackendProcess(), BackendProcess()]
    with stacks[0], stacks[1]:
        urls = [
            stacks[i].enter_context(
                running_backend(
                    tmp_path / f"replica{i}", env, entry="verse-backend", handle=handles[i]
                )
            )
            for i in range(2)
        ]
        ports = [int(url.rsplit(":", 1)[1]) for url in urls]
        proxy = nginx(_site(ports, tmp_path / "www"))
        with new_client(proxy.url) as client:
            first = read_stream(client, STANDALONE, {"message": "First question?"})
            assert first.status == 200 and first.named("done"), first.body
            conversation_id = first.named("done")[0].json()["conversation_id"]
            served = [_served_chat(handle) for handle in handles]
            assert sorted(served) == [0, 1]
            first_replica = served.index(1)
            stacks[first_replica].close()  # that replica is gone; only the other can answer

            second = read_stream(
                client,
                STANDALONE,
                {"message": "Second question?", "conversation_id": conversation_id},
            )
            assert second.status == 200, second.body
            assert second.named("done")[0].json()["conversation_id"] == conversation_id
            assert _served_chat(handles[1 - first_replica]) == 1
            history = client.get(f"/api/chat/conversations/{conversation_id}").json()
    roles = [(m["role"], m["status"]) for m in history["messages"]]
    assert roles == [("user", "complete"), ("assistant", "complete")] * 2
    assert history["messages"][0]["content"] == "First question?"
    assert history["messages"][1]["content"] == first.text


KILL_TOKEN_MS = 50
TOKENS_BEFORE_KILL = 10


def _stream_until_killed(client: httpx.Client, victim: BackendProcess) -> tuple[list[str], str]:
    """Start an answer, SIGKILL `victim` after TOKENS_BEFORE_KILL tokens, read what it had sent.

    Returns the tokens received and the conversation id."""
    assert victim.process is not None
    events: list[SseEvent] = []
    with client.stream("POST", STANDALONE, json={"message": "Why do proxies buffer?"}) as response:
        assert response.status_code == 200
        conversation_id = response.headers["x-conversation-id"]
        try:
            for event in iter_events(response):
                events.append(event)
                if sum(e.event == "token" for e in events) == TOKENS_BEFORE_KILL:
                    victim.process.send_signal(signal.SIGKILL)
        except httpx.TransportError:  # the kernel reset the dead server's socket
            pass
    victim.process.wait(timeout=10)
    assert not any(e.event in ("done", "error") for e in events)  # no cleanup ran
    return [e.json()["text"] for e in events if e.event == "token"], conversation_id


def test_an_answer_a_killed_replica_left_streaming_is_interrupted_by_the_other(
    tmp_path: Path, postgres: PostgresServer, fake_anthropic: FakeAnthropic
) -> None:
    # Both replicas hold one-second leases; A streams slowly from the simulated model, B
    # answers the next turn from the fake Anthropic API, which records the context it got.
    database_url = postgres.new_database()
    shared = {
        "VERSE_DATABASE_URL": database_url,
        "VERSE_SECRET_KEY": "r" * 40,
        "VERSE_STREAM_LEASE_SECONDS": "1",
    }
    env_a = {**shared, "VERSE_SIM_TOKEN_MS": str(KILL_TOKEN_MS)}
    env_b = {
        **shared,
        "VERSE_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
    }
    fake_anthropic.script = FakeScript(tokens=["Because ", "of latency."])
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    victim = BackendProcess()
    with (
        running_backend(tmp_path / "a", env_a, entry="verse-backend", handle=victim) as url_a,
        running_backend(tmp_path / "b", env_b, entry="verse-backend") as url_b,
        new_client(url_a) as on_a,
        new_client(url_b, logged_in=False) as on_b,
    ):
        on_b.cookies.set("verse_session", on_a.cookies["verse_session"])  # one session
        tokens, conversation_id = _stream_until_killed(on_a, victim)
        path = f"/api/chat/conversations/{conversation_id}"

        def messages() -> list[dict[str, Any]]:
            response = on_b.get(path)
            assert response.status_code == 200, response.text
            found: list[dict[str, Any]] = response.json()["messages"]
            return found

        wait_until(
            lambda: messages()[1]["status"] == "interrupted",
            30,
            "replica B to mark the killed replica's answer interrupted",
        )
        stored = messages()[1]["content"]
        second = read_stream(
            on_b, STANDALONE, {"message": "And then?", "conversation_id": conversation_id}
        )
        assert second.status == 200 and second.named("done"), second.body
        history = messages()

    # Nothing lost: what A stored is what it sent, but for the last FLUSH_S (one token in
    # flight when the signal went out).
    kept = next(k for k in range(len(tokens), -1, -1) if "".join(tokens[:k]) == stored)
    assert kept > 0 and len(tokens) - kept <= math.ceil(FLUSH_S * 1000 / KILL_TOKEN_MS) + 1
    assert [(m["role"], m["status"]) for m in history] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert history[1]["content"] == stored and history[3]["content"] == "Because of latency."
    # A's lease expired and was forgotten; B stopped cleanly (SIGTERM) and dropped its own.
    with psycopg.connect(database_url) as db:
        assert db.execute("SELECT id FROM replicas").fetchall() == []
    # The interrupted answer is in the model's context, as on SQLite.
    assert fake_anthropic.requests[-1].body["messages"] == [
        {"role": "user", "content": "Why do proxies buffer?"},
        {"role": "assistant", "content": stored},
        {"role": "user", "content": "And then?"},
    ]
