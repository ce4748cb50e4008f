"""Turn what httpx and the OS raise into the contract's error kinds, with a message for people."""

from __future__ import annotations

import socket
import ssl

import httpx

from versectl.probe.record import ProbeFailure


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify(exc: BaseException, url: str) -> ProbeFailure:
    """connect, tls, timeout or protocol, from the exception and what caused it."""
    chain = _causes(exc)
    host = httpx.URL(url).host
    if any(isinstance(cause, ssl.SSLCertVerificationError) for cause in chain):
        return ProbeFailure(
            "tls", f"TLS certificate of {host} not trusted: {_ssl_reason(chain)} (--insecure skips)"
        )
    tls = any(isinstance(cause, ssl.SSLError) for cause in chain) or "[SSL" in str(exc)
    if tls and isinstance(exc, httpx.ConnectTimeout):
        return ProbeFailure(
            "tls",
            f"no TLS handshake answer from {host} within --connect-timeout "
            "(a plain-HTTP server addressed as https://?)",
        )
    if tls:
        return ProbeFailure("tls", f"TLS handshake with {host} failed: {_ssl_reason(chain)}")
    if any(isinstance(cause, socket.gaierror) for cause in chain):
        return ProbeFailure("connect", f"cannot resolve host {host!r}")
    if isinstance(exc, httpx.ConnectTimeout):
        return ProbeFailure("connect", f"connecting to {host} timed out (--connect-timeout)")
    if isinstance(exc, httpx.TimeoutException):
        return ProbeFailure("timeout", f"timed out: {exc or type(exc).__name__}")
    if isinstance(exc, httpx.ConnectError):
        refused = any(isinstance(cause, ConnectionRefusedError) for cause in chain)
        reason = "connection refused" if refused else (str(exc) or "cannot connect")
        return ProbeFailure("connect", f"{url}: {reason}")
    if isinstance(exc, httpx.TooManyRedirects):
        return ProbeFailure("http", f"too many redirects: {exc}")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return ProbeFailure("protocol", f"the server broke the response off: {exc}")
    return ProbeFailure("protocol", f"{type(exc).__name__}: {exc}")


def _ssl_reason(chain: list[BaseException]) -> str:
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return str(cause.verify_message)
        if isinstance(cause, ssl.SSLError):
            if cause.reason:
                return str(cause.reason).lower().replace("_", " ")
            return str(cause)
    return str(chain[0]) or type(chain[0]).__name__
