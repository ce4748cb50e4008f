"""Two verse_backend replicas on one real PostgreSQL behind one real nginx `upstream`
(the shipped nginx-verse-replicas.conf): a conversation started on one continues on the other."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from nginx_templates import api_location, read_template
from tests.backend.sse_client import new_client, read_stream
from tests.support.backend_server import BackendProcess, running_backend
from tests.support.nginx import NginxServer
from tests.support.postgres import PostgresServer

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
