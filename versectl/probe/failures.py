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


def classify(exc: BaseException, url: str, *, response_started: bool = False) -> ProbeFailure:
    """connect, tls, timeout or protocol, from the exception and what caused it.

    `response_started`: the status line had come (a cut-off body, not a missing response).
    """
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
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ProbeFailure("protocol", _broken_off(chain, url, response_started))
    return ProbeFailure(
        "protocol", f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    )


def _broken_off(chain: list[BaseException], url: str, response_started: bool) -> str:
    """What happened when the connection ended early: never an empty reason."""
    detail = next((str(cause) for cause in chain if str(cause)), "")
    if any(isinstance(cause, ConnectionResetError) for cause in chain):
        detail = "the connection was reset"
    if response_started:
        return f"the server broke the response off: {detail or 'the connection closed mid-body'}"
    hint = " (a TLS port addressed as http://?)" if url.startswith("http://") else ""
    if not detail or "without sending a response" in detail or detail == "the connection was reset":
        return f"the server closed the connection without an HTTP response{hint}"
    return f"the server broke the connection off before a response: {detail}{hint}"


def _ssl_reason(chain: list[BaseException]) -> str:
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return str(cause.verify_message)
        if isinstance(cause, ssl.SSLError):
            if cause.reason:
                return str(cause.reason).lower().replace("_", " ")
            return str(cause)
    return str(chain[0]) or type(chain[0]).__name__
