"""verse_backend under load next to the floor (bench/minimal_sse_app.py): N concurrent streams
from a light client process (bench/load_client.py); server pinned to CPU 0, client to CPU 1.

Prints per N: server CPU per token, gap p50/p99/max, TTFT p50/p99, ratios to the minimal app,
and the 1-minute load average at each row (the machine may be shared: compare within a run).

Usage: .venv/bin/python bench/backend_load.py [--streams 1,100,300,500] [--token-ms 30]
       [--kinds minimal,simulated,anthropic]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.backend_server import FakeScript, fake_anthropic_server  # noqa: E402
from tests.support.thread_server import listening_socket  # noqa: E402
from verse_backend.providers.simulated_text import simulated_answer  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
QUESTION = "How do I stream answers through nginx?"


@dataclass
class Row:
    kind: str
    streams: int
    cpu_us: float
    gap_ms: tuple[float, float, float]
    ttft_ms: tuple[float, float]
    complete: int
    load: float


def _pin_server() -> None:
    os.sched_setaffinity(0, {SERVER_CPU})
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of `pid`, in ns (schedstat: finer than the 10 ms tick)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


@contextlib.contextmanager
def server(kind: str, token_ms: int, tmp: Path, upstream: str | None) -> Iterator[tuple[int, int]]:
    sock = listening_socket()
    port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERSE_", "ANTHROPIC_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        VERSE_SIM_TOKEN_MS=str(token_ms),
        VERSE_DB=str(tmp / kind / "verse.sqlite3"),
        VERSE_MAX_STREAMS_PER_SESSION="100000",
        VERSE_PROVIDER="simulated",
    )
    if kind == "minimal":
        command = ["-m", "uvicorn", "--factory", "bench.minimal_sse_app:create_app"]
    else:
        command = ["-m", "verse_backend"]
    if upstream is not None:
        env.update(
            VERSE_PROVIDER="anthropic", ANTHROPIC_API_KEY="sk-bench", ANTHROPIC_BASE_URL=upstream
        )
    log = (tmp / f"{kind}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, *command, "--fd", str(sock.fileno())],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        pass_fds=(sock.fileno(),),
        preexec_fn=_pin_server,
    )
    sock.close()
    try:
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(kind: str, port: int, pid: int, streams: int, rounds: int) -> Row:
    cookie = "-"
    if kind != "minimal":
        response = httpx.post(f"http://127.0.0.1:{port}/api/session", json={}, timeout=60)
        response.raise_for_status()
        cookie = response.cookies["verse_session"]
    results: list[dict[str, object]] = []
    load = os.getloadavg()[0]
    before = cpu_ns(pid)
    for _ in range(rounds):
        out = subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "load_client.py"),
                str(port),
                str(streams),
                cookie,
                str(CLIENT_CPU),
            ],
            check=True,
            capture_output=True,
        )
        results += json.loads(out.stdout)
    used = cpu_ns(pid) - before
    tokens = sum(len(r["times"]) for r in results)  # type: ignore[arg-type, misc]
    gaps: list[float] = []
    ttfts: list[float] = []
    for result in results:
        times: list[float] = result["times"]  # type: ignore[assignment]
        if times:
            ttfts.append((times[0] - result["sent"]) * 1000)  # type: ignore[operator]
            gaps += [(b - a) * 1000 for a, b in itertools.pairwise(times)]
    return Row(
        kind,
        streams,
        used / 1000 / max(tokens, 1),
        (_quantile(gaps, 0.5), _quantile(gaps, 0.99), max(gaps, default=float("nan"))),
        (_quantile(ttfts, 0.5), _quantile(ttfts, 0.99)),
        sum(1 for r in results if r["done"]),
        load,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--streams", default="1,100,300,500")
    parser.add_argument("--token-ms", type=int, default=30)
    parser.add_argument("--kinds", default="minimal,simulated,anthropic")
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    os.sched_setaffinity(0, {CLIENT_CPU})  # the fake Anthropic API's thread runs here too
    tokens = simulated_answer(QUESTION, turn=1)
    rows: list[Row] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        fake_anthropic_server(
            FakeScript(
                tokens=tokens,
                token_interval=args.token_ms / 1000,
                first_token_delay=args.token_ms / 1000,
            )
        ) as fake,
    ):
        for kind in args.kinds.split(","):
            upstream = fake.base_url if kind == "anthropic" else None
            with server(kind, args.token_ms, Path(tmp), upstream) as (port, pid):
                measure(kind, port, pid, 1, 1)  # warm-up: imports, first connection
                for count in counts:
                    rows.append(measure(kind, port, pid, count, 5 if count == 1 else 1))
                    print(_line(rows[-1], rows), flush=True)
    print(f"\n{len(tokens)} tokens an answer, {args.token_ms} ms cadence\n")
    print(
        "| server | N | load | CPU/token | gap p50 / p99 / max | TTFT p50 / p99 | done | vs minimal: CPU, TTFT p50 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(_line(row, rows))


def _line(row: Row, rows: list[Row]) -> str:
    floor = next((r for r in rows if r.kind == "minimal" and r.streams == row.streams), None)
    ratio = (
        f"{row.cpu_us / floor.cpu_us:.1f}x, {row.ttft_ms[0] / floor.ttft_ms[0]:.1f}x"
        if floor is not None
        else "-"
    )
    g, t = row.gap_ms, row.ttft_ms
    return (
        f"| {row.kind} | {row.streams} | {row.load:.1f} | {row.cpu_us:.0f} us | "
        f"{g[0]:.0f} / {g[1]:.0f} / {g[2]:.0f} ms | {t[0]:.0f} / {t[1]:.0f} ms | "
        f"{row.complete} | {ratio} |"
    )


if __name__ == "__main__":
    main()
