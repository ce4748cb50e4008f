"""verse_backend under load next to the floor (bench/minimal_sse_app.py): N concurrent streams
from a light client process (bench/load_client.py); server pinned to CPU 0, client to CPU 1.

Prints per N: server CPU per token, gap p50/p99/max, TTFT p50/p99, ratios to the minimal app,
and the 1-minute load average at each row (the machine may be shared: compare within a run).

Usage: .venv/bin/python bench/backend_load.py [--streams 1,100,300,500] [--token-ms 30]
       [--kinds minimal,minimal-sdk,simulated,anthropic] [--repeats 3]

minimal-sdk is the floor with its text read through the simulated provider's SDK call: what
the property "the offline path runs production's provider code" costs by itself.

Each cell is the median of `--repeats` measurements, the kinds taking turns at each N.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.backend_server import (  # noqa: E402
    BackendProcess,
    FakeScript,
    fake_anthropic_server,
    running_backend,
)
from verse_backend.providers.simulated_text import simulated_answer  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
# The floor apps (bench/minimal_sse_app.py) by kind; the other kinds are verse_backend's.
FLOORS = {
    "minimal": "bench.minimal_sse_app:create_app",
    "minimal-sdk": "bench.minimal_sse_app:create_sdk_app",
}
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
    """(port, pid) of `kind` served from a subprocess pinned to SERVER_CPU."""
    env = {
        "PYTHONPATH": str(ROOT),  # the floor app is bench.minimal_sse_app
        "VERSE_SIM_TOKEN_MS": str(token_ms),
        "VERSE_MAX_STREAMS_PER_SESSION": "100000",
    }
    if upstream is not None:
        env |= {
            "VERSE_PROVIDER": "anthropic",
            "ANTHROPIC_API_KEY": "sk-bench",
            "ANTHROPIC_BASE_URL": upstream,
        }
    handle = BackendProcess()
    (tmp / kind).mkdir(exist_ok=True)
    with running_backend(
        tmp / kind,
        env,
        entry="uvicorn" if kind in FLOORS else "verse-backend",
        factory=FLOORS.get(kind, FLOORS["minimal"]),
        preexec_fn=_pin_server,
        handle=handle,
    ) as url:
        assert handle.process is not None
        yield int(url.rsplit(":", 1)[1]), handle.process.pid


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def measure(kind: str, port: int, pid: int, streams: int, rounds: int) -> Row:
    cookie = "-"
    if kind not in FLOORS:
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


def median_row(rows: list[Row]) -> Row:
    """Each figure's median over repeated measurements of one cell."""

    def mid(values: list[float]) -> float:
        return statistics.median(values)

    return Row(
        rows[0].kind,
        rows[0].streams,
        mid([r.cpu_us for r in rows]),
        (
            mid([r.gap_ms[0] for r in rows]),
            mid([r.gap_ms[1] for r in rows]),
            mid([r.gap_ms[2] for r in rows]),
        ),
        (mid([r.ttft_ms[0] for r in rows]), mid([r.ttft_ms[1] for r in rows])),
        min(r.complete for r in rows),
        mid([r.load for r in rows]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--streams", default="1,100,300,500")
    parser.add_argument("--token-ms", type=int, default=30)
    parser.add_argument("--kinds", default="minimal,minimal-sdk,simulated,anthropic")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    counts = [int(n) for n in args.streams.split(",")]
    os.sched_setaffinity(0, {CLIENT_CPU})  # the fake Anthropic API's thread runs here too
    tokens = simulated_answer(QUESTION, turn=1)
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        fake = stack.enter_context(
            fake_anthropic_server(
                FakeScript(
                    tokens=tokens,
                    token_interval=args.token_ms / 1000,
                    first_token_delay=args.token_ms / 1000,
                )
            )
        )
        # Every server runs for the whole bench (idle ones cost nothing), and each N measures
        # the kinds one after the other, `--repeats` times: a slow minute of a shared machine
        # then lands on every kind alike, and each cell is the median of its repeats.
        kinds = args.kinds.split(",")
        servers = {}
        for kind in kinds:
            upstream = fake.base_url if kind == "anthropic" else None
            servers[kind] = stack.enter_context(server(kind, args.token_ms, tmp, upstream))
            measure(kind, *servers[kind], 1, 1)  # warm-up: imports, first connection
        for count in counts:
            samples: dict[str, list[Row]] = {kind: [] for kind in kinds}
            for _ in range(args.repeats):
                for kind in kinds:
                    samples[kind].append(
                        measure(kind, *servers[kind], count, 5 if count == 1 else 1)
                    )
            for kind in kinds:
                rows.append(median_row(samples[kind]))
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
