"""The runnable real-world configs (../shared/realworld/runnable, beside the clone): a private,
filled-in copy of one, and a throwaway certificate for its TLS listeners."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from versectl.demo.private_nginx import free_port

RUNNABLE = Path(__file__).resolve().parents[2].parent / "shared" / "realworld" / "runnable"


def case_names() -> list[str]:
    """Every runnable config, by directory name (empty when the corpus is not there)."""
    if not RUNNABLE.is_dir():
        return []
    return sorted(p.name for p in RUNNABLE.iterdir() if (p / "nginx.conf").is_file())


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for localhost, made with `openssl req` (nothing committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return Certificate(cert, key)


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


def prepare(name: str, dest: Path, backend_port: int, certificate: Certificate) -> Case:
    """Copy the config to `dest` and fill in its tokens (prefix, ports, certificate)."""
    shutil.copytree(RUNNABLE / name, dest, symlinks=True)
    for path in [dest, *dest.rglob("*")]:  # the corpus is read-only; a user's config is not
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    plain, tls = free_port(), free_port()
    tokens = {
        "@DIR@": str(dest), "@BP@": str(backend_port), "@P1@": str(plain), "@S1@": str(tls),
        "@CERT@": str(certificate.cert), "@KEY@": str(certificate.key),
    }  # fmt: skip
    for path in dest.rglob("*"):
        if path.is_file() and not path.is_symlink():
            text = path.read_text(errors="surrogateescape")
            for token, value in tokens.items():
                text = text.replace(token, value)
            path.write_text(text, errors="surrogateescape")
    uris = tuple(line.strip() for line in (dest / "uri").read_text().split() if line.strip())
    probes = tuple((dest / "probe").read_text().split())
    return Case(name, dest, dest / "nginx.conf", uris, probes, backend_port, plain, tls)


def file_bytes(root: Path) -> dict[str, bytes]:
    """Every config file of a copy (not logs, pid, temp dirs): to prove what a fix changed."""
    skip = {"nginx.pid"}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name not in skip
        and not p.name.endswith((".bak", ".log"))
        and "_temp" not in str(p.relative_to(root))
    }
