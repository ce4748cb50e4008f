"""The runnable real-world configs (../shared/realworld/runnable, beside the clone): a private,
filled-in copy of one, a real nginx master running it, and the Host a request for a URI on one
of its ports needs. Shared by the corpus e2e tests (check's truth, fix)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.tls import TlsFiles
from tests.support.waiting import wait_until
from versectl.demo.ports import free_ports
from versectl.nginx.load import load_config
from versectl.nginx.model import LocationMatch, select_locations

RUNNABLE = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "runnable"
KIND_PORTS = {"plain": "plain_port", "tls": "tls_port", "h2": "tls_port"}
"""The corpus's client kinds (its `probe` files) and the listener each one talks to."""


def case_names() -> list[str]:
    """Every runnable config, by directory name (empty when the corpus is not there)."""
    if not RUNNABLE.is_dir():
        return []
    return sorted(p.name for p in RUNNABLE.iterdir() if (p / "nginx.conf").is_file())


def require_corpus(names: list[str]) -> None:
    """In CI the corpus is cloned beside the repo: its absence is a failure, not a skip."""
    if not names and os.environ.get("CI") == "true":
        raise RuntimeError("../shared/realworld/runnable is missing: CI clones it beside the repo")


@dataclass(frozen=True)
class Case:
    """One filled-in copy: its main config, the URIs and client kinds its README lists."""

    name: str
    root: Path
    main: Path
    uris: tuple[str, ...]
    probes: tuple[str, ...]
    backend_port: int
    plain_port: int
    tls_port: int

    def port(self, kind: str) -> int:
        """The listener port a client kind ("plain", "tls", "h2") connects to."""
        return int(getattr(self, KIND_PORTS[kind]))


def prepare(name: str, dest: Path, backend_port: int, tls: TlsFiles) -> Case:
    """Copy the config to `dest` and fill in its tokens (prefix, ports, certificate)."""
    shutil.copytree(RUNNABLE / name, dest, symlinks=True)
    for path in [dest, *dest.rglob("*")]:  # the corpus is read-only; a user's config is not
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    plain, tls_port = free_ports(2)
    tokens = {
        "@DIR@": str(dest), "@BP@": str(backend_port), "@P1@": str(plain), "@S1@": str(tls_port),
        "@CERT@": str(tls.cert), "@KEY@": str(tls.key),
    }  # fmt: skip
    for path in dest.rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="surrogateescape")
            for token, value in tokens.items():
                text = text.replace(token, value)
            path.write_text(text, errors="surrogateescape")
    uris = tuple(line.strip() for line in (dest / "uri").read_text().split() if line.strip())
    probes = tuple((dest / "probe").read_text().split())
    return Case(name, dest, dest / "nginx.conf", uris, probes, backend_port, plain, tls_port)


@dataclass
class Nginx:
    """A private nginx master running a case's own main config."""

    binary: str
    main: Path
    pid: int

    def args(self, *extra: str) -> list[str]:
        return [self.binary, "-c", str(self.main), *extra]

    def workers(self) -> set[int]:
        found = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rfind(")") + 2 :].split()[1]) == self.pid:
                    found.add(int(entry.name))
        return found

    def reload(self) -> None:
        old = self.workers()
        subprocess.run(self.args("-s", "reload"), check=True, capture_output=True, timeout=30)
        wait_until(lambda: (now := self.workers()) != set() and not now & old, 15, "reload")

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{self.pid}").exists()
                   or "Z" in Path(f"/proc/{self.pid}/stat").read_text().split(")")[-1][:3],
                   15, "nginx to stop")  # fmt: skip


def start(
    binary: str, name: str, tmp_path: Path, backend_port: int, tls: TlsFiles
) -> tuple[Case, Nginx]:
    """Prepare the copy and start nginx on it; new ports when another process took one
    between choosing and nginx's bind (the ports are ephemeral, so a race remains)."""
    for attempt in range(3):
        case = prepare(name, tmp_path / f"conf{attempt}", backend_port, tls)
        done = subprocess.run(
            [binary, "-c", str(case.main)], capture_output=True, text=True, timeout=30,
            check=False,
        )  # fmt: skip
        if done.returncode == 0:
            return case, Nginx(binary, case.main, int((case.root / "nginx.pid").read_text()))
        if "Address already in use" not in done.stderr:
            break
    raise AssertionError(f"{name}: the original config does not run: {done.stderr}")


@contextmanager
def running_case(
    binary: str, name: str, tmp_path: Path, backend_port: int, tls: TlsFiles
) -> Iterator[tuple[Case, Nginx]]:
    """`start`, and stop that nginx afterwards."""
    case, server = start(binary, name, tmp_path, backend_port, tls)
    try:
        yield case, server
    finally:
        server.stop()


def names_and_ports(match: LocationMatch) -> tuple[str, set[int]]:
    """A Host the match's server answers to (`localhost` when it names none) and its ports."""
    names = [concrete(n) for n in match.server_names if n and n != "_" and n[0] != "~"]
    ports = {int(word.rsplit(":", 1)[-1]) for listen in match.listen
             for word in listen.split()[:1] if word.rsplit(":", 1)[-1].isdigit()}  # fmt: skip
    return (names[0] if names else "localhost"), ports


def concrete(name: str) -> str:
    """A host name a server_name wildcard matches (`open-webui.*`, `*.example.org`)."""
    if name.endswith(".*"):
        return name[:-1] + "example"
    return "a" + name[1:] if name.startswith(("*.", ".")) else name


def host_for(case: Case, uri: str, port: int) -> str:
    """The Host of a request for `uri` on `port`: the first server there with a location for
    it (the model's view), else the first server listening there, else localhost."""
    fallback = None
    for match in select_locations(load_config([str(case.main)]), [uri]):
        host, ports = names_and_ports(match)
        if port in ports:
            if match.location is not None:
                return host
            fallback = fallback or host
    return fallback or "localhost"
