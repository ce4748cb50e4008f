"""How much memory and time does `versectl probe-stream --timeout 10` spend on hostile bodies?

Serves each bomb of tests/probe/bombs.py (brotli 1 GiB, brotli 32 Mi events, gzip 1 GiB, an
endless plain flood) from a real loopback server and runs the probe as a user does, in a
subprocess; prints its exit code, error kind, wall time and peak RSS (wait4's ru_maxrss). A
probe still running after --kill-after seconds is killed (and shown as such).
`--source DIR` runs another checkout's versectl (e.g. main, for the "before" column).

Usage: .venv/bin/python bench/probe_bombs.py [--source DIR] [--timeout 10] [--kill-after 60]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.probe.bombs import Bomb, bomb_server, brotli_events, brotli_gib, gzip_gib

BOMBS = {
    "brotli 1 GiB": lambda: Bomb(brotli_gib(), "br"),
    "brotli 32Mi events": lambda: Bomb(brotli_events(), "br"),
    "gzip 1 GiB": lambda: Bomb(gzip_gib(), "gzip"),
    "plain flood": lambda: Bomb(flood=True),
}


def run_one(url: str, source: Path, timeout: float, kill_after: float) -> tuple[str, float, int]:
    """(outcome, seconds, peak RSS in MiB) of one probe process."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "versectl", "probe-stream", url, "--format", "json"]
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--timeout", str(timeout)],
        cwd=source,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    killed = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > kill_after:
            process.send_signal(signal.SIGKILL)
            killed = True
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else b""
    rss_mib = usage.ru_maxrss // 1024
    if killed:
        return f"killed after {kill_after:g} s", seconds, rss_mib
    code = os.waitstatus_to_exitcode(status)
    try:
        error = json.loads(out)["results"][0]["error"]
        kind = f"{error['kind']}: {error['message']}" if error else "no error"
    except (ValueError, KeyError, IndexError, TypeError):
        kind = "no JSON"
    return f"exit {code}, {kind}", seconds, rss_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--kill-after", type=float, default=60.0)
    parser.add_argument("--only", help="run only the bomb whose name contains this")
    args = parser.parse_args()
    print(f"| bomb | wall s | peak RSS MiB | outcome |  (source {args.source})")
    print("|---|---|---|---|")
    for name, make in BOMBS.items():
        if args.only and args.only not in name:
            continue
        with bomb_server(make()) as url:
            outcome, seconds, rss = run_one(url, args.source, args.timeout, args.kill_after)
        print(f"| {name} | {seconds:.1f} | {rss} | {outcome[:100]} |", flush=True)


if __name__ == "__main__":
    main()
