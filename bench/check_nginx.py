"""How long does `versectl check nginx --offline` take on a big config, next to gixy-ng?

Generates an nginx.conf with 500 servers x 10 locations (one of them an /api/ location that
proxies, with settings varying per server so the rules have work to do), then times whole
processes, as a user or CI runs them, alternating the two tools to share the machine's load
(2 shared cores: other work shows up in every run). gixy-ng lives in its own venv
(/tmp/versectl-gixy-venv, created on first run with `pip install gixy-ng`): it is not a
dependency of this project. Prints median wall times and the ratio; the goal is <= 0.5.

With --big: no gixy-ng; the loader's bounds instead (issue 9 item 7). Times whole processes
and their peak RSS on 15 MiB of real site configs (../shared/realworld, repeated with unique
server names), on 15 MiB of small servers, and on 3 KB of files each including the next twice,
30 deep (must be refused at once, exit 2).

Then the start-up rows (issue 11 item 6): `versectl --help` (goal <= 0.15 s) and
`versectl check nginx` on the seed's broken site (../shared/seed/broken-site.conf, 25 lines;
goal <= 0.6x gixy-ng on the same file), alternating with gixy-ng, in an empty directory (no
compose file to read), with the user+system CPU seconds beside the wall time: on a machine
shared with other work the CPU time is the steadier figure. Every process runs from bytecode
(PYTHONDONTWRITEBYTECODE is dropped, .pyc files go to PYTHONPYCACHEPREFIX in /tmp), as an
installed versectl and gixy-ng's venv do; a venv with setuptools' editable finder (not `make
venv`'s compat mode) is named in a note, its ~10 ms are no installed versectl's. The floor rows
come first: the bare interpreter (ours and gixy-ng's), typer's import, and a typer app whose
`check nginx` does nothing, which is what any typer CLI costs before its own work.

Usage: .venv/bin/python bench/check_nginx.py [--servers 500] [--locations 10] [--repeats 5]
       .venv/bin/python bench/check_nginx.py --startup-only [--startup-repeats 21]
       .venv/bin/python bench/check_nginx.py --big
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
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


# The same command in a typer app that registers only it: versectl.cli builds only the command
# that runs (versectl/commands/lazy.py), so the two should cost the same.
ALONE = (
    "import sys, typer\n"
    "from versectl.commands import check_nginx\n"
    "app = typer.Typer(); check = typer.Typer(); app.add_typer(check, name='check')\n"
    "check.command('nginx')(check_nginx.command); check.command('other')(lambda: None)\n"
    "sys.argv = ['versectl', 'check', 'nginx', *sys.argv[1:]]\n"
    "app()\n"
)


SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed" / "broken-site.conf"

# The floor while typer is the CLI library: the same command line parsed by a typer app whose
# `check nginx` does nothing (the interpreter, typer's import, building and parsing one command).
FLOOR_APP = (
    "import typer\n"
    "app = typer.Typer(add_completion=False); check = typer.Typer(); "
    "app.add_typer(check, name='check')\n"
    "@check.command('nginx')\n"
    "def nginx(paths: list[str], offline: bool = False) -> None: pass\n"
    "check.command('other')(lambda: None)\n"
    "app()\n"
)


def editable_finder() -> str | None:
    """setuptools' editable finder in this venv's site-packages, if any: it imports ~10 ms of
    modules at every start, which an installed versectl (and `make venv`'s compat mode) has not."""
    for pth in Path(sysconfig.get_paths()["purelib"]).glob("__editable__*versectl*.pth"):
        if "import" in pth.read_text():
            return pth.name
    return None


def timed_cpu(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and user+system CPU seconds of one whole process (its exit status is ignored)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def startup(gixy: Path, repeats: int) -> None:
    """The start-up rows: the floor (bare interpreter, typer's import, a no-op typer app),
    --help, and the seed's site next to gixy-ng."""
    versectl = Path(sys.executable).with_name("versectl")
    seed_args = ["check", "nginx", str(SEED)]
    runs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "gixy-ng's python -c pass": [str(gixy.with_name("python")), "-c", "pass"],
        "python -c 'import typer'": [sys.executable, "-c", "import typer"],
        "typer app, no-op command": [sys.executable, "-c", FLOOR_APP, *seed_args],
        "versectl --help": [str(versectl), "--help"],
        "versectl check nginx (seed)": [str(versectl), *seed_args],
        "gixy-ng (seed)": [str(gixy), str(SEED)],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as tmp:
        for argv in runs.values():
            timed_cpu(argv, Path(tmp))  # warm the page cache and .pyc files
        for _ in range(repeats):
            for name, argv in runs.items():
                times[name].append(timed_cpu(argv, Path(tmp)))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(
        f"start-up: {SEED.name} ({len(SEED.read_text().splitlines())} lines), {repeats} "
        f"alternating runs each, median; load average {' '.join(load)}"
    )
    medians = {
        name: (statistics.median(w for w, _ in rows), statistics.median(c for _, c in rows))
        for name, rows in times.items()
    }
    # the least CPU of a row: what the process itself costs, the least disturbed by the others
    least = {name: min(c for _, c in rows) for name, rows in times.items()}
    finder = editable_finder()
    if finder is not None:
        print(f"  note: {finder} is setuptools' editable finder, not an installed versectl's .pth")
    for name, (wall, cpu) in medians.items():
        print(f"  {name:30} {wall:6.3f} s wall  {cpu:6.3f} s cpu  (least {least[name]:.3f} s cpu)")
    help_wall = medians["versectl --help"][0]
    print(f"  --help goal <= 0.15 s: {'met' if help_wall <= 0.15 else 'NOT met'}")
    ours, theirs = "versectl check nginx (seed)", "gixy-ng (seed)"
    for unit, index in (("wall", 0), ("cpu", 1)):
        ratio = medians[ours][index] / medians[theirs][index]
        verdict = "met" if ratio <= 0.6 else "NOT met"
        print(f"  ratio versectl / gixy-ng ({unit})  {ratio:5.2f}x  (goal <= 0.60x: {verdict})")
    print(f"  ratio of the least cpu            {least[ours] / least[theirs]:5.2f}x")
    floor = "typer app, no-op command"
    print(
        f"  no-op typer app / gixy-ng (cpu)   {medians[floor][1] / medians[theirs][1]:5.2f}x, least "
        f"{least[floor] / least[theirs]:.2f}x  (the floor while typer is on the path)"
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


REALWORLD = Path(__file__).resolve().parents[1] / ".." / "shared" / "realworld" / "configs"
BIG_BYTES = 15 * 1024 * 1024


def real_sites() -> list[str]:
    """The realworld site files (servers at top level, no includes) that load on their own."""
    from versectl.errors import VersectlError
    from versectl.nginx.load import load_config
    from versectl.nginx.parse import HTTP, guess_context, lex

    found = []
    for path in sorted(REALWORLD.glob("*.conf")):
        text = path.read_text(errors="replace")
        if "include" in text:
            continue
        try:
            if guess_context(lex(text, str(path))) == HTTP:
                load_config([str(path)])
                found.append(text)
        except VersectlError:
            continue
    return found


def generate_real(size: int) -> str:
    sites = real_sites()
    parts = ["events {}\nhttp {\n"]
    total = 0
    copy = 0
    while total < size - 4096:
        text = re.sub(r"(?<!\w)server_name\s+", f"server_name n{copy}.", sites[copy % len(sites)])
        text = re.sub(r"\bupstream\s+(\S+)", rf"upstream \1_{copy}", text)
        parts.append(text)
        total += len(text)
        copy += 1
    parts.append("}\n")
    return "".join(parts)


def generate_small_servers(size: int) -> str:
    parts = ["events {}\nhttp {\n"]
    total = 0
    count = 0
    while total < size - 4096:
        line = (
            f"server {{ listen 80; server_name s{count}.example.com; "
            f"location / {{ proxy_pass http://127.0.0.1:{8000 + count % 50}; }} }}\n"
        )
        parts.append(line)
        total += len(line)
        count += 1
    parts.append("}\n")
    return "".join(parts)


def write_include_bomb(folder: Path, depth: int = 30) -> Path:
    for level in range(depth):
        (folder / f"f{level}.conf").write_text(
            f"include f{level + 1}.conf;\ninclude f{level + 1}.conf;\n"
            "proxy_set_header X-Padding abcdefghijklmnopqrstuvwxyz;\n"
        )
    (folder / f"f{depth}.conf").write_text("proxy_buffering off;\n")
    main = folder / "nginx.conf"
    main.write_text("events {}\nhttp {\n    include f0.conf;\n}\n")
    return main


# RUSAGE_CHILDREN's ru_maxrss is the largest child so far, not the last one: each measured
# process runs under its own small parent, which reports that one child's peak.
_PEAK = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
    "wall = time.perf_counter() - start\n"
    "print(wall, code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
)


def measured(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, exit status and peak RSS (MiB) of one whole process, on its own."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, check=True
    )
    wall, code, rss = out.stdout.split()
    return float(wall), int(code), float(rss)


def big() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [
            ("15 MiB of real site configs", folder / "real.conf", generate_real(BIG_BYTES)),
            ("15 MiB of small servers", folder / "small.conf", generate_small_servers(BIG_BYTES)),
        ]
        for label, path, text in cases:
            path.write_text(text)
            servers = text.count("server {") + text.count("server{")
            argv = [sys.executable, "-m", "versectl", "check", "nginx", "--offline"]
            wall, code, rss = measured([*argv, "--format", "json", str(path)])
            print(
                f"  {label} ({servers} servers): {wall:6.2f} s, peak RSS {rss:5.0f} MiB, "
                f"exit {code}"
            )
        bomb_dir = folder / "bomb"
        bomb_dir.mkdir()
        bomb = write_include_bomb(bomb_dir)
        on_disk = sum(p.stat().st_size for p in bomb_dir.iterdir())
        wall, code, rss = measured(
            [sys.executable, "-m", "versectl", "check", "nginx", "--offline", str(bomb)]
        )
        print(
            f"  {on_disk / 1024:.1f} KB of files including the next twice, 30 deep: "
            f"{wall:6.2f} s, peak RSS {rss:5.0f} MiB, exit {code} (refused)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big", action="store_true", help="the loader's bounds (no gixy-ng)")
    parser.add_argument("--startup-repeats", type=int, default=21)
    parser.add_argument("--startup-only", action="store_true", help="only the start-up rows")
    args = parser.parse_args()
    # an installed versectl runs from bytecode, as gixy-ng's venv does: without a .pyc every run
    # would compile ~80 modules (~40 ms). Cached outside the work tree.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / "versectl-pyc"))
    if args.big:
        big()
        return
    gixy = ensure_gixy()
    if args.startup_only:
        startup(gixy, args.startup_repeats)
        return
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
        "typer, the check's modules)"
    )
    alone_median = statistics.median(alone_times)
    print(
        f"  check nginx alone in a typer app  {alone_median:6.2f} s  (ratio "
        f"{alone_median / theirs_median:.2f}x: typer with this one command, for comparison)"
    )
    ratio = ours_median / theirs_median
    print(
        f"  ratio versectl / gixy-ng        {ratio:6.2f}x  (goal <= 0.50x: "
        f"{'met' if ratio <= 0.5 else 'NOT met'})"
    )
    startup(gixy, args.startup_repeats)


if __name__ == "__main__":
    main()
