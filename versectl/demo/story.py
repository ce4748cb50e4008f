"""The demo's script: the backend alone, then a broken nginx in front of it, checked, probed, fixed."""

from __future__ import annotations

import itertools
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.rule import Rule

from versectl.demo.backend_process import running_backend
from versectl.demo.private_nginx import NginxServer, running_nginx
from versectl.nginx.binary import nginx_binary
from versectl.probe.sse import SSEParser

QUESTION = "Why do chat answers arrive all at once behind nginx?"

# A site as it is often first deployed: gzip turned on for "text" types (event streams included)
# and a caching how-to's proxy_ignore_headers, which makes nginx ignore the backend's
# `X-Accel-Buffering: no`. With buffering in effect, gzip holds the whole answer.
BROKEN_SITE = """\
# verse: the chat app (demo copy, as first deployed)
gzip on;
gzip_types text/plain application/json text/event-stream;

server {
    listen 127.0.0.1:@PORT@;
    server_name _;

    location / {
        return 200 "the frontend would be here\\n";
    }

    location /api {
        proxy_pass http://127.0.0.1:@BACKEND_PORT@;
        proxy_ignore_headers X-Accel-Buffering X-Accel-Expires;
        proxy_set_header Host $host;
        proxy_read_timeout 90;
    }
}
"""


def main() -> None:
    console = Console(highlight=False)
    with tempfile.TemporaryDirectory(prefix="versectl-demo-") as tmp:
        data_dir = Path(tmp)
        console.print(Rule("1. verse_backend on its own (simulated model, offline)"))
        with running_backend(data_dir) as backend_url:
            console.print(f"backend: {backend_url} (python -m verse_backend)")
            stream_answer(console, backend_url)
            url = f"{backend_url}/api/chat/message"
            run_cli(console, ["probe-stream", url, "--login"])
            if nginx_binary() is None:
                console.print(
                    "\n[yellow]nginx is not installed[/]: the rest of the demo puts a real nginx in "
                    "front of the backend. Install it with `sudo apt-get install nginx-light` "
                    "(make test does this when run as root) and run `make demo` again."
                )
                return
            backend_port = backend_url.rsplit(":", 1)[1]
            site = BROKEN_SITE.replace("@BACKEND_PORT@", backend_port)
            with running_nginx(data_dir / "nginx", site) as nginx:
                nginx_story(console, nginx, backend_url, backend_port)


def nginx_story(console: Console, nginx: NginxServer, backend_url: str, backend_port: str) -> None:
    """Broken config -> check -> probe (buffered) -> fix -> reload -> probe (streaming)."""
    site = str(nginx.site_path)
    chat = "/api/chat/message"
    console.print(Rule("2. a private nginx with a typical first-deployment config"))
    console.print(f"nginx: {nginx.url} (prefix {nginx.prefix}), site file {site}")
    port_flag = ["--backend-port", backend_port]
    run_cli(console, ["check", "nginx", str(nginx.conf_path), *port_flag])
    console.print(Rule("3. what the browser gets through this nginx"))
    run_cli(console, ["probe-stream", nginx.url + chat, "--login", "--direct", backend_url + chat])
    console.print(Rule("4. the fix: a dry run (diff), then --write (backup, nginx -t, atomic)"))
    fix_args = [
        "fix",
        site,
        *port_flag,
        "--nginx",
        nginx.binary,
        "--nginx-conf",
        str(nginx.conf_path),
    ]
    run_cli(console, fix_args)
    run_cli(console, [*fix_args, "--write", "--no-backup"])
    nginx.reload()
    console.print("nginx reloaded")
    console.print(Rule("5. after the fix"))
    run_cli(console, ["check", "nginx", str(nginx.conf_path), *port_flag])
    run_cli(console, ["probe-stream", nginx.url + chat, "--login"])


def stream_answer(console: Console, backend_url: str) -> None:
    """Print one answer token by token as it arrives, then its timings."""
    console.print(f"\n[bold]you:[/] {QUESTION}\n[bold]verse:[/] ", end="")
    with httpx.Client(base_url=backend_url, timeout=60) as client:
        client.post("/api/session", json={"password": ""}).raise_for_status()
        start = time.perf_counter()
        arrivals: list[float] = []
        body = {"message": QUESTION, "insight_id": 1}
        with client.stream("POST", "/api/chat/message", json=body) as response:
            response.raise_for_status()
            parser = SSEParser()
            for chunk in response.iter_bytes():
                for event in parser.feed(chunk):
                    if event.event == "token":
                        arrivals.append(time.perf_counter() - start)
                        console.print(json.loads(event.data)["text"], end="", soft_wrap=True)
    gaps = sorted(b - a for a, b in itertools.pairwise(arrivals))
    median = gaps[len(gaps) // 2] * 1000 if gaps else 0.0
    first = arrivals[0] * 1000 if arrivals else 0.0
    console.print(
        f"\n\n[dim]{len(arrivals)} tokens, the first after {first:.0f} ms, then one every "
        f"{median:.1f} ms (median). The same stream, timed by versectl:[/]"
    )


def run_cli(console: Console, args: list[str]) -> int:
    """Run `versectl ARGS` as a user would, showing the command line and its output."""
    console.print(f"\n[bold cyan]$ versectl {shlex.join(args)}[/]")
    result = subprocess.run([sys.executable, "-m", "versectl", *args], check=False)
    console.print(f"[dim](exit {result.returncode})[/]")
    return result.returncode
