"""The listener model parses `listen` as nginx does and merges one address:port's options across
servers as nginx 1.22 does; checked against a real nginx (TLS, ALPN, plain, unix socket)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.nginx import NginxServer
from tests.support.tls import make_tls_files
from versectl.demo.ports import free_ports
from versectl.errors import ConfigParseError
from versectl.nginx.clients import ClientKind
from versectl.nginx.directive import Directive
from versectl.nginx.load import load_config
from versectl.nginx.model import ListenerModel, ServerListeners, parse_address, servers
from versectl.report.check_json import listeners_json

H1, TLS, H2 = ClientKind.http1_1, ClientKind.http1_1_tls, ClientKind.h2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("443", ("*", 443)),
        ("*:8080", ("*", 8080)),
        ("0.0.0.0:80", ("*", 80)),
        ("*", ("*", 80)),
        ("127.0.0.1", ("127.0.0.1", 80)),
        ("127.0.0.1:8443", ("127.0.0.1", 8443)),
        ("LocalHost:8080", ("localhost", 8080)),
        ("[::]:443", ("[::]", 443)),
        ("[0:0::0]:443", ("[::]", 443)),
        ("[::1]", ("[::1]", 80)),
        ("unix:/run/verse.sock", ("unix:/run/verse.sock", None)),
    ],
)
def test_listen_address_forms(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    "text", ["0", "70000", "host:", "host:x", "[::1", "[zz]:80", "unix:", ":80", ""]
)
def test_listen_address_nginx_rejects_is_a_parse_error(text: str) -> None:
    with pytest.raises(ConfigParseError):
        parse_address(text)


def _model(tmp_path: Path, site: str) -> dict[str, ServerListeners]:
    path = tmp_path / "site.conf"
    path.write_text(site)
    pairs = servers(load_config([str(path)]))
    model = ListenerModel(pairs)
    return {_name(server): model.for_server(server) for _http, server in pairs}


def _name(server: Directive) -> str:
    return next(server.children("server_name")).args[0]


def test_http2_and_ssl_of_one_listen_apply_to_every_server_on_that_address_port(
    tmp_path: Path,
) -> None:
    found = _model(
        tmp_path,
        """
        server { listen 443 ssl http2; server_name a; }
        server { listen 443; server_name b; }
        server { listen 127.0.0.1:443; server_name c; }
        server { listen 80; listen [::]:80 default_server; server_name d; }
        server { listen 8443 ssl; server_name e; }
        """,
    )
    a, b, c, d, e = (found[n] for n in "abcde")
    assert a.clients == b.clients == (TLS, H2)  # b's own listen says neither ssl nor http2
    assert a.is_default(a.listeners[0]) and not b.is_default(b.listeners[0])
    assert c.clients == (H1,)  # another address: its own options
    assert d.clients == (H1,) and [x.text for x in d.listeners] == ["*:80", "[::]:80"]
    assert d.is_default(d.listeners[1])
    assert e.clients == (TLS,) and not e.h2
    assert e.ssl_buffer_size.value == "16k" and e.ssl_buffer_bytes == 16384


def test_server_without_listen_is_on_port_80_and_legacy_ssl_on_needs_the_default_server(
    tmp_path: Path,
) -> None:
    found = _model(
        tmp_path,
        """
        server { server_name implicit; }
        server { listen 8001; server_name first; ssl on; }
        server { listen 8001; server_name second; }
        server { listen 8002; server_name third; }
        server { listen 8002; server_name fourth; ssl on; }
        """,
    )
    assert [x.text for x in found["implicit"].listeners] == ["*:80"]
    assert found["implicit"].listens[0].directive is None
    # `ssl on;` switches TLS on for the address through the connection's default server only
    assert found["second"].clients == (TLS,)
    assert found["fourth"].clients == (H1,)


def test_http2_on_directive_is_per_server_and_ssl_buffer_size_inherits(tmp_path: Path) -> None:
    found = _model(
        tmp_path,
        """
        ssl_buffer_size 4k;
        server { listen 443 ssl; server_name a; http2 on; }
        server { listen 443 ssl; server_name b; ssl_buffer_size 1k; }
        server { listen 8080 http2; server_name c; }
        """,
    )
    assert found["a"].clients == (TLS, H2)
    assert found["b"].clients == (TLS,)
    assert found["a"].ssl_buffer_bytes == 4096 and found["a"].ssl_buffer_size.level == "http"
    assert found["b"].ssl_buffer_bytes == 1024
    assert found["c"].clients == () and found["c"].h2c_only
    assert listeners_json(found["a"]) == [
        {"address": "*", "port": 443, "ssl": True, "http2": True, "default_server": True}
    ]


# --- against a real nginx ---------------------------------------------------------------


def _alpn(port: int, sni: str) -> str | None:
    """The protocol nginx picks when a client offers h2 and http/1.1 (a browser's offer)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        return tls.selected_alpn_protocol()


def _exchange(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _plain(target: int | Path, host: str) -> bytes:
    request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    if isinstance(target, Path):
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(10)
            sock.connect(str(target))
            return _exchange(sock, request)
    with socket.create_connection(("127.0.0.1", target), timeout=10) as sock:
        return _exchange(sock, request)


def _h2c_preface(port: int) -> bytes:
    """What nginx answers to HTTP/2 with prior knowledge: the first 9 bytes (a frame header)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # the client preface, then an empty SETTINGS frame
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04" + bytes(5))
        return sock.recv(9)


def test_model_agrees_with_what_a_real_nginx_speaks_on_each_listener(
    nginx: Callable[[str], NginxServer], tmp_path: Path
) -> None:
    files = make_tls_files(tmp_path / "tls")
    cert, key = files.cert, files.key
    p1, p2, p3, p4, p5, p6 = free_ports(6)  # distinct: p4 twice would be another config
    sock = tmp_path / "plain.sock"
    site = f"""
        ssl_certificate {cert};
        ssl_certificate_key {key};
        server {{ listen 127.0.0.1:@PORT@; server_name fixture; return 200 "fixture\\n"; }}
        server {{ listen 127.0.0.1:{p1} ssl http2; server_name a; return 200 "a\\n"; }}
        server {{ listen 127.0.0.1:{p1} ssl; server_name b; return 200 "b\\n"; }}
        server {{ listen 127.0.0.1:{p2} ssl; server_name c; return 200 "c\\n"; }}
        server {{ listen 127.0.0.1:{p3}; listen unix:{sock}; server_name d; return 200 "d\\n"; }}
        server {{ listen 127.0.0.1:{p4}; server_name e; return 200 "e\\n"; }}
        server {{ listen 127.0.0.1:{p4} ssl; server_name f; return 200 "f\\n"; }}
        server {{ listen 127.0.0.1:{p5}; server_name g; ssl on; return 200 "g\\n"; }}
        server {{ listen 127.0.0.1:{p6} http2; server_name h; return 200 "h\\n"; }}
    """
    server = nginx(site)
    assert server.test_config().returncode == 0  # nginx -t accepts every form parsed here
    found = _model(tmp_path, site.replace("@PORT@", str(server.port)))
    for name, listeners in found.items():
        for listener in listeners.listeners:
            if listener.port is None:
                target: int | Path = Path(listener.address.removeprefix("unix:"))
            else:
                target = listener.port
            if listener.ssl:
                assert isinstance(target, int)
                want = "h2" if listeners.speaks_h2(listener) else "http/1.1"
                assert _alpn(target, name) == want, (name, listener.text)
            elif listener.http2:  # nginx 1.22: HTTP/2 with prior knowledge only
                assert isinstance(target, int)
                assert not _plain(target, name).startswith(b"HTTP/1."), (name, listener.text)
                assert _h2c_preface(target)[3] == 4, (name, listener.text)  # SETTINGS
            else:
                answer = _plain(target, name)
                assert answer.startswith(b"HTTP/1.1 200"), (name, listener.text, answer[:80])
                assert answer.endswith(f"{name}\n".encode()), (name, listener.text)
    assert found["b"].clients == (TLS, H2) and found["c"].clients == (TLS,)
    assert found["e"].clients == (TLS,) and found["g"].clients == (TLS,)
    assert found["d"].clients == (H1,) and found["h"].clients == ()
