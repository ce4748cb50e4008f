"""How exactly does `versectl probe-stream` time events? And what does it cost per event?

A server in a subprocess (its own GIL) sends SSE events at known, irregular times and records
the moment each write returned (perf_counter_ns: CLOCK_MONOTONIC, one clock for every process).
The probe runs as users run it (`python -m versectl probe-stream`), once with the rich live view
on (a terminal forced with FORCE_COLOR) and once with --format json. For every pair of
consecutive events: |measured gap - sent gap|; median, p99 and max over all gaps.
The HTTP/2 rows run the same schedule over TLS + h2 (`--http2`): the server speaks HTTP/2 with
the h2 library, one DATA frame per event, stamped when the frame was handed to the kernel.
A control row times the same stream with a bare blocking recv loop in a subprocess: the noise
floor of the machine at that moment (2 shared cores: other work shows up in every row).
Then -c 100 streams at once: the probe's CPU time (user+sys) per event.

Usage: .venv/bin/python bench/probe_fidelity.py [--events 260] [--repeats 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import RequestReceived, StreamEnded

ROOT = Path(__file__).resolve().parent.parent
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


def schedule(events: int, seed: int) -> list[float]:
    """Gaps in seconds: irregular, 2-25 ms, like tokens of a model under varying load."""
    rng = random.Random(seed)
    return [rng.uniform(0.002, 0.025) for _ in range(events)]


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, gaps: list[float], record: Path
) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    if length:
        await reader.readexactly(length)
    writer.write(HEAD)
    await writer.drain()
    sent: list[int] = []
    deadline = time.perf_counter()
    for i, gap in enumerate(gaps):
        deadline += gap
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        text = json.dumps({"text": f"tok{i} "})
        # the transport hands the bytes to the kernel inside write() when its buffer is empty
        # (it is: the client keeps up), so the stamp right after it is the moment of sending
        writer.write(_chunk(f"event: token\ndata: {text}\n\n".encode()))
        sent.append(time.perf_counter_ns())
        await writer.drain()
    writer.write(_chunk(b'event: done\ndata: {"tokens": %d}\n\n' % len(gaps)) + b"0\r\n\r\n")
    await writer.drain()
    writer.close()
    with record.open("a") as out:
        out.write(json.dumps(sent) + "\n")


async def _h2_pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: H2Connection
) -> None:
    """Keep answering the client's frames (SETTINGS ack, WINDOW_UPDATE) while events go out."""
    while data := await reader.read(65536):
        conn.receive_data(data)
        if pending := conn.data_to_send():
            writer.write(pending)


async def _handle_h2(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, gaps: list[float], record: Path
) -> None:
    """The same schedule over HTTP/2: written on the h2 library's state machine (sans-IO), as
    no HTTP/2 server library lets one time each DATA frame's write."""
    conn = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    stream_id: int | None = None
    ended = False
    while not ended:
        data = await reader.read(65536)
        if not data:
            return
        for event in conn.receive_data(data):
            if isinstance(event, RequestReceived):
                stream_id = event.stream_id
            ended = ended or isinstance(event, StreamEnded)
        writer.write(conn.data_to_send())
    assert stream_id is not None
    headers = [(":status", "200"), ("content-type", "text/event-stream"),
               ("cache-control", "no-cache")]  # fmt: skip
    conn.send_headers(stream_id, headers)
    writer.write(conn.data_to_send())
    await writer.drain()
    pump = asyncio.create_task(_h2_pump(reader, writer, conn))
    sent: list[int] = []
    deadline = time.perf_counter()
    for i, gap in enumerate(gaps):
        deadline += gap
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        text = json.dumps({"text": f"tok{i} "})
        conn.send_data(stream_id, f"event: token\ndata: {text}\n\n".encode())
        writer.write(conn.data_to_send())  # TLS: encrypted and sent inside write(), as above
        sent.append(time.perf_counter_ns())
        await writer.drain()
    conn.send_data(stream_id, b'event: done\ndata: {"tokens": %d}\n\n' % len(gaps))
    conn.end_stream(stream_id)
    writer.write(conn.data_to_send())
    await writer.drain()
    with record.open("a") as out:
        out.write(json.dumps(sent) + "\n")
    await asyncio.wait([pump], timeout=5)  # the client closes once it has read the end
    pump.cancel()
    writer.close()


async def serve(
    events: int, seed: int, record: Path, tls: Path | None = None, alpn: str = "h2"
) -> None:
    gaps = schedule(events, seed)
    context: ssl.SSLContext | None = None
    handler = _handle
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
        context.set_alpn_protocols([alpn])
        handler = _handle_h2 if alpn == "h2" else _handle
    server = await asyncio.start_server(
        lambda r, w: handler(r, w, gaps, record), "127.0.0.1", 0, backlog=256, ssl=context
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


def make_certificate(directory: Path) -> Path:
    """A throwaway self-signed certificate for 127.0.0.1 (cert.pem, key.pem in `directory`)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return directory


class ServerProcess:
    """The event server in a subprocess; its sent times land in `record`, one line per stream.
    With `tls` (a directory holding cert.pem and key.pem): TLS, HTTP/2 or (`alpn`) HTTP/1.1."""

    def __init__(self, events: int, seed: int, tls: Path | None = None, alpn: str = "h2") -> None:
        self.record = Path(tempfile.mkstemp(prefix="probe-fidelity-", suffix=".jsonl")[1])
        tls_args = ["--tls", str(tls), "--alpn", alpn] if tls else []
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--events", str(events), "--seed", str(seed),
             "--record", str(self.record), *tls_args],
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{int(self.proc.stdout.readline())}/stream"
        version = "--http2" if alpn == "h2" else "--http1.1"
        self.probe_args = [version, "--cacert", str(tls / "cert.pem")] if tls else []

    def sent(self) -> list[list[int]]:
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.record.unlink(missing_ok=True)


def run_probe(url: str, *args: str, live: bool) -> tuple[dict[str, object], str, float]:
    """The CLI as a user runs it; returns its JSON, its stderr and its CPU seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if live:
            env.update(FORCE_COLOR="1", TTY_COMPATIBLE="1", TTY_INTERACTIVE="1", COLUMNS="120")
            fmt = ["--format", "table", "--json-file", str(out)]
        else:
            env.pop("FORCE_COLOR", None)
            fmt = ["--format", "json", "--json-file", str(out)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-m", "versectl", "probe-stream", url, *args, *fmt],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False,
        )  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if done.returncode not in (0, 1, 3):
            raise SystemExit(f"probe failed ({done.returncode}): {done.stderr[-2000:]}")
        return json.loads(out.read_text()), done.stderr, cpu


def control_client(url: str) -> None:
    """The noise floor: a bare blocking socket reader (no httpx, no parser, no asyncio) that
    stamps each recv and prints the arrival of every token event as JSON."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    arrivals: list[int] = []
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: " + host_port.encode() + b"\r\n\r\n")
        buffer = b""
        while data := sock.recv(65536):
            t_ns = time.perf_counter_ns()
            buffer += data
            *events, buffer = buffer.split(b"\n\n")
            arrivals += [t_ns for event in events if b"event: token" in event]
    print(json.dumps(arrivals))


def control(events: int, repeats: int) -> dict[str, float]:
    errors: list[float] = []
    for repeat in range(repeats):
        server = ServerProcess(events, seed=repeat)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--control", server.url],
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            arrivals = [ns / 1e6 for ns in json.loads(done.stdout)]
            errors += gap_errors(arrivals, server.sent()[0])
        finally:
            server.close()
    return _summary(errors)


def gap_errors(arrivals_ms: list[float], sent_ns: list[int]) -> list[float]:
    """|measured gap - sent gap| in ms, for the token events (the first len(sent_ns))."""
    measured = arrivals_ms[: len(sent_ns)]
    truth = [ns / 1e6 for ns in sent_ns]
    return [
        abs((measured[i + 1] - measured[i]) - (truth[i + 1] - truth[i]))
        for i in range(len(truth) - 1)
    ]


def fidelity(
    events: int, repeats: int, live: bool, tls: Path | None = None, alpn: str = "h2"
) -> dict[str, float]:
    errors: list[float] = []
    renders = 0
    expected = "HTTP/2" if tls is not None and alpn == "h2" else "HTTP/1.1"
    for repeat in range(repeats):
        server = ServerProcess(events, seed=repeat, tls=tls, alpn=alpn)
        try:
            document, stderr, _cpu = run_probe(server.url, *server.probe_args, live=live)
            result = document["results"][0]  # type: ignore[index]
            if result["http_version"] != expected:
                raise SystemExit(f"a {expected} row was answered in {result['http_version']}")
            errors += gap_errors(result["arrivals_ms"], server.sent()[0])
            renders += stderr.count("probing")
        finally:
            server.close()
    return {**_summary(errors), "live_frames": renders}


def _summary(errors: list[float]) -> dict[str, float]:
    ordered = sorted(errors)
    return {
        "gaps": len(errors),
        "median_ms": statistics.median(errors),
        "p99_ms": ordered[int(0.99 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
    }


def cpu_per_event(concurrency: int, events: int, tls: Path | None = None) -> dict[str, float]:
    server = ServerProcess(events, seed=99, tls=tls)
    try:
        extra = server.probe_args
        baseline_doc, _, baseline_cpu = run_probe(server.url, *extra, live=False)
        document, _, cpu = run_probe(server.url, *extra, "-c", str(concurrency), live=False)
    finally:
        server.close()
    result = document["results"][0]  # type: ignore[index]
    total_events = sum(run["events"] for run in result["runs"])  # type: ignore[index]
    baseline_events = baseline_doc["results"][0]["events"]  # type: ignore[index]
    return {
        "streams": concurrency,
        "events": total_events,
        "cpu_s": cpu,
        "cpu_us_per_event": cpu / total_events * 1e6,
        "cpu_us_per_event_net": (cpu - baseline_cpu) / max(1, total_events - baseline_events) * 1e6,
        "verdicts": result["aggregate"]["verdicts"],  # type: ignore[index]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=260)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--control", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tls", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--alpn", default="h2", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.control:
        control_client(args.control)
        return
    if args.serve:
        asyncio.run(serve(args.events, args.seed, args.record, args.tls, args.alpn))
        return
    print(f"probe fidelity: {args.events} events x {args.repeats} runs, gaps 2-25 ms, loopback")
    print(f"  (load average before: {os.getloadavg()[0]:.2f}; 2 cores shared with whatever runs)")
    with tempfile.TemporaryDirectory(prefix="probe-fidelity-tls-") as tmp:
        tls = make_certificate(Path(tmp))
        rows = [
            ("live view on", fidelity(args.events, args.repeats, live=True)),
            ("--format json", fidelity(args.events, args.repeats, live=False)),
            ("h2+TLS, live", fidelity(args.events, args.repeats, live=True, tls=tls)),
            ("h2+TLS, json", fidelity(args.events, args.repeats, live=False, tls=tls)),
            ("1.1+TLS, json", fidelity(args.events, args.repeats, False, tls, "http/1.1")),
            ("bare recv loop", control(args.events, args.repeats)),
        ]
        cpu_rows = [
            ("HTTP/1.1", cpu_per_event(args.concurrency, 200)),
            ("h2+TLS", cpu_per_event(args.concurrency, 200, tls=tls)),
        ]
    for label, f in rows:
        frames = f" ({f['live_frames']} live frames drawn)" if f.get("live_frames") else ""
        print(
            f"  {label:14s} |measured - sent gap| over {f['gaps']} gaps: "
            f"median {f['median_ms']:.3f} ms, p99 {f['p99_ms']:.3f} ms, max {f['max_ms']:.3f} ms"
            + frames
        )
    for label, c in cpu_rows:
        print(
            f"  -c {c['streams']} {label}: {c['events']} events, probe CPU {c['cpu_s']:.2f} s = "
            f"{c['cpu_us_per_event']:.0f} us/event ({c['cpu_us_per_event_net']:.0f} us/event "
            f"without start-up); verdicts {c['verdicts']}"
        )


if __name__ == "__main__":
    main()
