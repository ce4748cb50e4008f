"""The kinds of client a server can be reached by; findings say which of them they affect."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class ClientKind(StrEnum):
    """A client's transport, the dimension along which nginx's streaming verdicts differ."""

    http1_1 = "http1.1"
    """plain HTTP/1.1 over TCP."""
    http1_1_tls = "http1.1+tls"
    """HTTP/1.1 over TLS: curl --http1.1, Python/Node SDKs, Chromium with HTTP/2 disabled."""
    h2 = "h2"
    """HTTP/2 over TLS: browsers."""

    @property
    def label(self) -> str:
        """How the report names this kind of client."""
        return _LABELS[self]


_LABELS = {
    ClientKind.http1_1: "plain HTTP",
    ClientKind.http1_1_tls: "HTTP/1.1 over TLS clients (SDKs, curl --http1.1)",
    ClientKind.h2: "HTTP/2 browsers",
}

ALL_CLIENTS: tuple[ClientKind, ...] = tuple(ClientKind)
"""Every kind, in a fixed order (the default of a finding that does not depend on transport)."""


def ordered(kinds: Iterable[ClientKind]) -> tuple[ClientKind, ...]:
    """`kinds` in the fixed order of ALL_CLIENTS, without duplicates."""
    wanted = set(kinds)
    return tuple(k for k in ALL_CLIENTS if k in wanted)


def names(kinds: Iterable[ClientKind]) -> str:
    """`HTTP/2 browsers and plain HTTP`: the kinds' labels as one phrase."""
    labels = [k.label for k in ordered(kinds)]
    if len(labels) <= 1:
        return "".join(labels) or "no client"
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def split_verdict(held: Iterable[ClientKind], reachable: Iterable[ClientKind], why: str) -> str:
    """`held for X (why); streams for Y`: who of `reachable` is held and who streams."""
    held_kinds = ordered(held)
    rest = [k for k in ordered(reachable) if k not in held_kinds]
    text = f"held for {names(held_kinds)} {why}".rstrip()
    if rest:
        text += f"; streams for {names(rest)}"
    return text
