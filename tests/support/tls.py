"""The one place for test certificates: a throwaway CA (trustme) and a server certificate signed
by it, TLS site snippets, and an nginx serving one site on three listeners at once - plain
HTTP/1.1, TLS (HTTP/1.1 only) and TLS with HTTP/2 - on ephemeral ports. Nothing is committed."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.support.nginx import NginxServer, running_nginx
from versectl.demo.ports import free_ports

TRANSPORTS = ("http1.1", "http1.1+tls", "h2")
"""The client kinds, in the vocabulary `check nginx` uses for `Finding.clients`."""


@dataclass(frozen=True)
class TlsFiles:
    """A server certificate for 127.0.0.1/localhost, its key, and the CA that signed it."""

    cert: Path
    key: Path
    ca: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca))


def make_tls_files(directory: Path) -> TlsFiles:
    """Generate a fresh CA and server certificate into `directory` (nothing is committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(directory / "server.pem", directory / "server.key", directory / "ca.pem")
    files.cert.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files.key))
    ca.cert_pem.write_to_path(str(files.ca))
    return files


def tls_site(tls: TlsFiles, location_body: str, *, http2: bool = True) -> str:
    """One server `listen ... ssl [http2]` on @PORT@ with `location /api { location_body }`."""
    listen = "ssl http2" if http2 else "ssl"
    return (
        f"server {{\n    listen 127.0.0.1:@PORT@ {listen};\n"
        f"    ssl_certificate {tls.cert};\n    ssl_certificate_key {tls.key};\n"
        f"    location /api {{\n{location_body}    }}\n}}\n"
    )


def https_url(port: int, path: str = "/api/x") -> str:
    return f"https://127.0.0.1:{port}{path}"


def listen_lines(tls: TlsFiles, *, http2_directive: bool = False) -> str:
    """The server-level lines of a three-listener site: `@PORT@` plain, `@PORT_TLS@` TLS,
    `@PORT_H2@` TLS + HTTP/2 (`listen ... ssl http2`, or `http2 on;` for nginx 1.25.1+)."""
    h2 = (
        "listen 127.0.0.1:@PORT_H2@ ssl;\n    http2 on;"
        if http2_directive
        else ("listen 127.0.0.1:@PORT_H2@ ssl http2;")
    )
    return (
        "listen 127.0.0.1:@PORT@;\n"
        "    listen 127.0.0.1:@PORT_TLS@ ssl;\n"
        f"    {h2}\n"
        f"    ssl_certificate {tls.cert};\n"
        f"    ssl_certificate_key {tls.key};\n"
    )


@dataclass(frozen=True)
class Listeners:
    """A running three-listener nginx and the base URL of each transport."""

    server: NginxServer
    tls_port: int
    h2_port: int

    def url(self, transport: str) -> str:
        if transport == "http1.1":
            return self.server.url
        port = self.tls_port if transport == "http1.1+tls" else self.h2_port
        return f"https://127.0.0.1:{port}"


_PORT_CLASHES = ("Address already in use", "duplicate listen")
"""nginx's words when a chosen port was taken meanwhile, or handed out twice (running_nginx
picks `@PORT@` after these two sockets are closed)."""


@contextmanager
def running_listeners(prefix: Path, site: str) -> Iterator[Listeners]:
    """nginx with `site`, whose `@PORT_TLS@` and `@PORT_H2@` get fresh ports here (`@PORT@` is
    running_nginx's); a port clash gets new ports, up to three tries."""
    for attempt in range(3):
        tls_port, h2_port = free_ports(2)
        text = site.replace("@PORT_TLS@", str(tls_port)).replace("@PORT_H2@", str(h2_port))
        stack = ExitStack()
        try:
            server = stack.enter_context(running_nginx(prefix, text))
        except RuntimeError as exc:
            if not any(clash in str(exc) for clash in _PORT_CLASHES) or attempt == 2:
                raise
            continue
        with stack:
            yield Listeners(server, tls_port, h2_port)
        return
