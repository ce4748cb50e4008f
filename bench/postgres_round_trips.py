"""How long the PostgreSQL store holds the event loop per call when the database is a network
hop away: each call's time through a latency hop (bench/latency_proxy.py), in ms and in round
trips (its time over a `SELECT 1`'s through the same hop). The store's calls are synchronous
on the event loop, so every round trip is a pause for every open stream.

Usage: .venv/bin/python bench/postgres_round_trips.py [--one-way-ms 1] [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.latency_proxy import latency_proxy
from tests.support.postgres import running_postgres
from verse_backend.store import Conversation, new_conversation_id
from verse_backend.store_postgres import PostgresStore

SESSION = "s" * 32


def per_call_ms(call: Callable[[int], object], calls: int) -> float:
    """The median of five rounds' mean time per call."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for index in range(calls):
            call(index)
        rounds.append((time.perf_counter() - start) / calls * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--one-way-ms", type=float, default=1.0)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with running_postgres() as pg:
        url = pg.new_database()
        database = url.split("?")[0].rsplit("/", 1)[1]
        socket = f"{pg.socket_dir}/.s.PGSQL.5432"
        for one_way_ms in (0.0, args.one_way_ms):
            with latency_proxy(socket, one_way_ms / 1000) as port:
                store = PostgresStore(f"postgresql://verse@127.0.0.1:{port}/{database}")
                try:
                    report(store, one_way_ms, args.calls)
                finally:
                    store.close()


def report(store: PostgresStore, one_way_ms: float, calls: int) -> None:
    conversations = [Conversation(new_conversation_id(), SESSION, None) for _ in range(calls)]
    answers: list[int] = []

    def start_turn(index: int) -> None:
        answers.append(store.start_turn(conversations[index], "How do I stream?")[1])

    def flush_500(index: int) -> None:
        store.append_answers({answers[(index + k) % len(answers)]: "tok " for k in range(500)})

    round_trip = per_call_ms(lambda _: store.session_count(), calls)
    figures = {
        "start_turn (a new conversation)": per_call_ms(start_turn, calls),
        "session_valid": per_call_ms(lambda _: store.session_valid(SESSION, "", 0.0), calls),
        "append_answers (500 answers)": per_call_ms(flush_500, max(5, calls // 20)),
        "finish_answer": per_call_ms(
            lambda index: store.finish_answer(answers[index], "complete", None, "end"), calls
        ),
    }
    print(f"\none-way delay asked {one_way_ms} ms; a round trip (SELECT) took {round_trip:.2f} ms")
    print("| call | ms | round trips |")
    print("|---|---|---|")
    for name, ms in figures.items():
        print(f"| {name} | {ms:.2f} | {ms / round_trip:.1f} |")


if __name__ == "__main__":
    main()
