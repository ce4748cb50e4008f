"""Server selection follows ngx_http_find_virtual_server: checked against a real nginx, where
every server answers its own marker, for fixed edge cases and a generated set of names."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.nginx import NginxServer
from versectl.errors import InputError
from versectl.nginx.directive import Directive
from versectl.nginx.load import load_config
from versectl.nginx.model import ListenerModel, servers
from versectl.nginx.model.server_select import (
    listeners_for,
    normalize_host,
    parse_port,
    select_server,
)

FIXED = [
    "_",
    "chat.example www.chat.example",
    "*.example.org",
    "*.b.example.org",
    ".site.test",
    "mail.*",
    "mail.example.*",
    "~^api\\d+\\.example\\.net$",
    "~^api",
    "default.example",
    None,  # no server_name: the empty name, which a request without Host looks up
    "site.test",  # conflicts with .site.test above: nginx ignores it
    "~^(?<sub>[a-z]+)\\.regex\\.test$",
]
FIXED_HOSTS = [
    "chat.example",
    "WWW.Chat.Example.",
    "a.example.org",
    "a.b.example.org",
    "b.example.org",
    "example.org",
    "site.test",
    "x.site.test",
    "mail.foo",
    "mail.example.com",
    "mail.example",
    "api12.example.net",
    "api.other",
    "unknown.test",
    "abc.regex.test",
    "default.example",
]
LABELS = ["a", "b", "c", "chat", "www"]
TLDS = ["example", "test", "org"]


def _generated(seed: int) -> tuple[list[str | None], list[str]]:
    """Random server_name lists (exact, `*.x`, `.x`, `x.*`, regex) and hosts that hit or miss."""
    rng = random.Random(seed)

    def name() -> str:
        return ".".join([*(rng.choice(LABELS) for _ in range(rng.randint(0, 2))), rng.choice(TLDS)])

    forms: list[Callable[[], str]] = [
        name,
        lambda: "*." + name(),
        lambda: "." + name(),
        lambda: rng.choice(LABELS) + ".*",
        lambda: f"~^{rng.choice(LABELS)}\\.",
    ]
    server_lists: list[str | None] = [
        " ".join(rng.choice(forms)() for _ in range(rng.randint(1, 3))) for _ in range(14)
    ]
    hosts = [name() for _ in range(40)]
    return server_lists, hosts


def _site(name_lists: list[str | None], address: str, default: int) -> str:
    blocks = []
    for index, names in enumerate(name_lists):
        flag = " default_server" if index == default else ""
        line = f"server_name {names};" if names is not None else ""
        blocks.append(
            f'server {{ listen {address}:@PORT@{flag}; {line} return 200 "{address}#{index}"; }}'
        )
    return "\n".join(blocks) + "\n"


def _ask(address: str, port: int, host: str | None) -> str:
    """The marker of the server that answers; `None`: an HTTP/1.0 request without Host."""
    if host is None:
        request = b"GET / HTTP/1.0\r\n\r\n"
    else:
        request = f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection((address, port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")), data[:200]
    return body.decode().strip()


def _marker(server: Directive) -> str:
    return next(server.children("return")).args[1]


@pytest.mark.parametrize("seed", [None, 1, 2])
def test_selection_matches_a_real_nginx(
    nginx: Callable[[str], NginxServer], tmp_path: Path, seed: int | None
) -> None:
    if seed is None:
        name_lists, hosts = FIXED, FIXED_HOSTS
    else:
        name_lists, hosts = _generated(seed)
    default = len(name_lists) - 3  # neither first nor last
    site = _site(name_lists, "127.0.0.1", default) + _site(["other.example", None], "127.0.0.2", -1)
    server = nginx(site)
    path = tmp_path / "site.conf"
    path.write_text(site.replace("@PORT@", str(server.port)))
    model = ListenerModel(servers(load_config([str(path)])))
    for address in ("127.0.0.1", "127.0.0.2"):
        (listener,) = listeners_for(model, server.port, address)
        for host in [*hosts, None]:
            choice = select_server(listener, normalize_host(host) if host is not None else None)
            answered = _ask(address, server.port, host)
            assert _marker(choice.server) == answered, (host, choice.reason, choice.server.line)


def test_default_server_and_first_server_reasons(tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text(
        "server { listen 443 ssl; server_name _; return 444; }\n"
        "server { listen 443 ssl; server_name chat.example; }\n"
        "server { listen 80; server_name a.example; }\n"
        "server { listen 80 default_server; server_name b.example; }\n"
        "server { listen 127.0.0.1:80; server_name local.example; }\n"
    )
    model = ListenerModel(servers(load_config([str(path)])))
    (tls,) = listeners_for(model, 443, None)
    assert select_server(tls, "chat.example").reason == "server_name chat.example"
    assert select_server(tls, "other.example").reason == (
        "first server of *:443 (no server_name matches other.example)"
    )
    (plain,) = listeners_for(model, 80, None)  # the wildcard, not 127.0.0.1:80
    assert plain.text == "*:80"
    assert select_server(plain, "x.example").reason.startswith("default_server of *:80")
    assert [x.text for x in listeners_for(model, 80, "127.0.0.1")] == ["127.0.0.1:80"]
    assert [x.text for x in listeners_for(model, 80, "10.0.0.1")] == ["*:80"]
    assert [x.text for x in listeners_for(model, None, None)] == ["*:443", "*:80", "127.0.0.1:80"]
    assert select_server(listeners_for(model, 80, "127.0.0.1")[0], None).reason == (
        "the only server on 127.0.0.1:80"
    )


@pytest.mark.parametrize("bad", ["", "a b", "x/y", "a..b", "[::1", "a" * 300])
def test_bad_host_is_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        normalize_host(bad)


def test_host_normalization_and_port_forms() -> None:
    assert normalize_host("Chat.Example.:443") == "chat.example"
    assert parse_port("443") == (None, 443)
    assert parse_port("127.0.0.1:8443") == ("127.0.0.1", 8443)
    assert parse_port("[::1]:443") == ("[::1]", 443)
    for bad in ("0", "x", "127.0.0.1", "unix:/x", "[::1]", "70000"):
        with pytest.raises(InputError):
            parse_port(bad)
