"""How long does `versectl check nginx --offline` take on a big config, next to gixy-ng?

Generates an nginx.conf with 500 servers x 10 locations (one of them an /api/ location that
proxies, with settings varying per server so the rules have work to do), then times whole
processes, as a user or CI runs them, alternating the two tools to share the machine's load
(2 shared cores: other work shows up in every run). gixy-ng lives in its own venv
(/tmp/versectl-gixy-venv, created on first run with `pip install gixy-ng`): it is not a
dependency of this project. Prints median wall times and the ratio; the goal is <= 0.5.

Usage: .venv/bin/python bench/check_nginx.py [--servers 500] [--locations 10] [--repeats 5]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIXY_VENV = Path("/tmp/versectl-gixy-venv")
VARIANTS = (
    "proxy_buffering off;",
    "proxy_http_version 1.1;",
    "gzip on; gzip_types text/event-stream;",
    "proxy_read_timeout 10s;",
    "proxy_set_header X-Accel-Buffering no;",
)


def generate(servers: int, locations: int) -> str:
    parts = ["events {}\nhttp {\n    proxy_set_header Host $host;\n"]
    for s in range(servers):
        parts.append(
            f"    server {{\n        listen 80;\n        server_name s{s}.example.com;\n"
            f"        location /api/ {{\n            proxy_pass http://127.0.0.1:{7776 + s % 3};\n"
            f"            {VARIANTS[s % len(VARIANTS)]}\n        }}\n"
        )
        for n in range(locations - 1):
            parts.append(
                f"        location /p{n}/ {{\n            proxy_pass http://127.0.0.1:{8000 + n};\n"
                "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
                "            proxy_read_timeout 90s;\n        }\n"
            )
        parts.append("    }\n")
    parts.append("}\n")
    return "".join(parts)


def ensure_gixy() -> Path:
    gixy = GIXY_VENV / "bin" / "gixy"
    if not gixy.exists():
        print(f"creating {GIXY_VENV} with gixy-ng (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(GIXY_VENV)], check=True)
        subprocess.run([str(GIXY_VENV / "bin" / "pip"), "install", "-q", "gixy-ng"], check=True)
    return gixy


# The same command in a typer app that registers only it: what `versectl check nginx` would
# cost if versectl.cli imported each command's module only when that command runs.
ALONE = (
    "import sys, typer\n"
    "from versectl.commands import check_nginx\n"
    "app = typer.Typer(); check = typer.Typer(); app.add_typer(check, name='check')\n"
    "check.command('nginx')(check_nginx.command); check.command('other')(lambda: None)\n"
    "sys.argv = ['versectl', 'check', 'nginx', *sys.argv[1:]]\n"
    "app()\n"
)


def timed(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, exit status and peak RSS (MiB) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, check=False)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode not in (0, 1):
        raise SystemExit(
            f"{argv[0]} failed ({result.returncode}):\n{result.stderr.decode()[-2000:]}"
        )
    return wall, result.returncode, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    gixy = ensure_gixy()
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(generate(args.servers, args.locations))
        size = conf.stat().st_size
        ours = [sys.executable, "-m", "versectl", "check", "nginx", str(conf), "--offline"]
        theirs = [str(gixy), str(conf)]
        timed(ours), timed(theirs)  # warm the page cache and .pyc files
        alone = [sys.executable, "-c", ALONE, str(conf), "--offline"]
        versectl_times: list[float] = []
        gixy_times: list[float] = []
        alone_times: list[float] = []
        for _ in range(args.repeats):
            versectl_times.append(timed(ours)[0])
            gixy_times.append(timed(theirs)[0])
            alone_times.append(timed(alone)[0])
        json_run = timed([*ours, "--format", "json"])
        tiny = Path(tmp) / "tiny.conf"
        tiny.write_text(generate(1, 1))
        floor = statistics.median(
            timed([*ours[:-2], str(tiny), "--offline"])[0] for _ in range(args.repeats)
        )
    ours_median = statistics.median(versectl_times)
    theirs_median = statistics.median(gixy_times)
    print(
        f"config: {args.servers} servers x {args.locations} locations, {size / 1024:.0f} KiB, "
        f"{args.repeats} alternating runs each (median wall time of the whole process)"
    )
    print(
        f"  versectl check nginx --offline  {ours_median:6.2f} s  "
        f"(min {min(versectl_times):.2f}, max {max(versectl_times):.2f}; json: {json_run[0]:.2f} s)"
    )
    print(
        f"  gixy-ng                         {theirs_median:6.2f} s  "
        f"(min {min(gixy_times):.2f}, max {max(gixy_times):.2f})"
    )
    print(
        f"  versectl on a 1-location config   {floor:6.2f} s  (the fixed cost: interpreter, "
        "imports of every command, typer)"
    )
    alone_median = statistics.median(alone_times)
    print(
        f"  check nginx alone in a typer app  {alone_median:6.2f} s  (ratio "
        f"{alone_median / theirs_median:.2f}x: what lazy command imports in cli.py would give)"
    )
    ratio = ours_median / theirs_median
    print(
        f"  ratio versectl / gixy-ng        {ratio:6.2f}x  (goal <= 0.50x: "
        f"{'met' if ratio <= 0.5 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
