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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.probe.bombs import BOMBS, bomb_server, run_measured


def run_one(url: str, source: Path, timeout: float, kill_after: float) -> tuple[str, float, int]:
    """(outcome, seconds, peak RSS in MiB) of one probe process."""
    args = ["probe-stream", url, "--format", "json", "--timeout", str(timeout)]
    done = run_measured(args, kill_after=kill_after, source=source)
    if done.returncode is None:
        return f"killed after {kill_after:g} s", done.seconds, int(done.rss_mib)
    try:
        error = json.loads(done.stdout)["results"][0]["error"]
        kind = f"{error['kind']}: {error['message']}" if error else "no error"
    except (ValueError, KeyError, IndexError, TypeError):
        kind = "no JSON"
    return f"exit {done.returncode}, {kind}", done.seconds, int(done.rss_mib)


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
