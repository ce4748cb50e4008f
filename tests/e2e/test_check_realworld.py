"""`check nginx` against what clients measure on the real-world corpus (issue 12 item 6): each
runnable config of ../shared/realworld/runnable runs in its own real nginx in front of the
conforming scripted backend; every transport it listens on (its `probe` file: plain HTTP/1.1,
HTTP/1.1 over TLS, HTTP/2 over TLS) is measured for each of its streaming URIs, and check's
findings for that server (--host/--port) must agree, per transport, with the truth contract of
tests/e2e/test_check_truth.py.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.nginx.streaming import Reading, read_stream, verdict
from tests.nginx.truth import scripted_plan
from tests.support.nginx import require_nginx
from tests.support.realworld import Case, case_names, host_for, require_corpus, running_case
from tests.support.scripted_server import ScriptedServer, scripted_server
from tests.support.tls import TlsFiles
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import load_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

NAMES = case_names()
require_corpus(NAMES)
TRANSPORT = {"plain": "http1.1", "tls": "http1.1+tls", "h2": "h2"}
"""The corpus's client kinds in the vocabulary of `Finding.clients`."""
CLIENTS = ("identity", "gzip")
BUFFERING_FAMILY = {
    "proxy-buffering",
    "gzip-event-stream",
    "ignore-accel-buffering",
    "http-version",
}
REDIRECT_RULES = {"no-proxy-pass", "missing-location"}
"""Rules that judge what nginx answers instead of a backend: a redirect to https is none."""
PARALLEL = 6
"""Configs measured at once, each with its own nginx (the streams only wait on timers)."""
REDIRECTS = range(300, 309)


@dataclass
class Measured:
    """One URI over one transport of one config: what the clients saw and what check says."""

    uri: str
    transport: str
    host: str
    port: int
    verdicts: dict[str, str] = field(default_factory=dict)
    """client -> streams | held | partial | cut | error | status N | redirect (to https, for
    the same URI) | redirect to URL (anywhere else)."""
    details: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    """Rules with an error finding for this transport, for the server a request reaches."""
    warnings: list[str] = field(default_factory=list)

    @property
    def seen(self) -> set[str]:
        return set(self.verdicts.values())

    def describe(self) -> str:
        cells = ", ".join(
            f"{c}: {v} {self.details.get(c, '')}".strip() for c, v in self.verdicts.items()
        )
        return (
            f"{self.uri} over {self.transport} (Host {self.host}, port {self.port}): measured "
            f"[{cells}]; check says errors {self.errors or 'none'}, warnings {self.warnings or 'none'}"
        )


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedServer]:
    """The matrix's conforming backend: HTTP/1.0 close-delimited, HTTP/1.1 chunked, no
    X-Accel-Buffering; each answer starts with a marker naming its request."""
    with scripted_server(scripted_plan("conforming", silent=False)) as server:
        yield server


def _context(tls: TlsFiles) -> ssl.SSLContext:
    """Trust only the test CA, but accept the configs' own server names (SNI = Host)."""
    context = tls.client_context()
    context.check_hostname = False
    return context


def _findings(case: Case, uri: str, host: str, port: int) -> list[Finding]:
    """check nginx --host HOST --port PORT for this URI, on the running copy, offline."""
    options = CheckOptions(
        uris=(uri,), backend_port=case.backend_port, offline=True, host=host, port=(None, port)
    )
    return list(run_check(load_config([str(case.main)]), options).findings)


def _measure(
    case: Case, item: Measured, client: str, backend: ScriptedServer, tls: TlsFiles
) -> None:
    scheme = "http" if item.transport == "http1.1" else "https"
    tag = f"{case.name} {item.uri} {item.transport} {client}"
    body = json.dumps({"model": "m", "stream": True, "message": tag, "insight_id": 1}).encode()
    reading: Reading = read_stream(
        f"{scheme}://127.0.0.1:{item.port}{item.uri}",
        gzip=client == "gzip",
        body=body,
        transport=item.transport,
        verify=_context(tls),
        host=item.host,
    )
    sent = [
        ns / 1e9 for req, sent_ns in list(backend.exchanges) if req.body == body for ns in sent_ns
    ]
    if reading.status in REDIRECTS:
        target = urlsplit(reading.location or "")
        same = target.scheme == "https" and target.path == item.uri and not target.query
        found = "redirect" if same else f"redirect to {reading.location}"
    elif reading.status not in (0, 200):
        found = f"status {reading.status}"
    else:
        found = verdict(reading, sent[1:])  # sent[0] is the marker, sent with the headers
    item.verdicts[client] = found
    item.details[client] = (
        f"({len(reading.times)} reads{', ' + reading.error if reading.error else ''})"
    )


def measure_case(name: str, tmp: Path, backend: ScriptedServer, tls: TlsFiles) -> list[Measured]:
    """Run one config in its own nginx; measure every URI x transport x client at once."""
    with running_case(require_nginx(), name, tmp, backend.port, tls) as (case, _server):
        items = []
        for uri in case.uris:
            for kind in case.probes:
                port = case.port(kind)
                host = host_for(case, uri, port)
                item = Measured(uri, TRANSPORT[kind], host, port)
                for found in _findings(case, uri, host, port):
                    if item.transport in found.clients and found.uri in (uri, None):
                        if found.severity is Severity.error:
                            item.errors.append(found.rule)
                        elif found.severity is Severity.warning:
                            item.warnings.append(found.rule)
                items.append(item)
        jobs = [(item, client) for item in items for client in CLIENTS]
        with ThreadPoolExecutor(len(jobs)) as pool:
            list(pool.map(lambda job: _measure(case, job[0], job[1], backend, tls), jobs))
    return items


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory, backend: ScriptedServer, tls_files: TlsFiles
) -> dict[str, list[Measured] | str]:
    """Every runnable config, PARALLEL at a time (a config that cannot be measured: why)."""
    root = tmp_path_factory.mktemp("realworld")

    def one(name: str) -> tuple[str, list[Measured] | str]:
        try:
            return name, measure_case(name, root / name, backend, tls_files)
        except Exception as exc:  # that config's test fails with it; the others still run
            return name, f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(PARALLEL) as pool:
        return dict(pool.map(one, NAMES))


def _redirected(item: Measured) -> bool:
    return all(v.startswith("redirect") for v in item.seen)


def disagreements(item: Measured) -> list[str]:
    """Where check's verdict for this transport contradicts the measurement (empty: agrees)."""
    seen, errors = item.seen, set(item.errors)
    if seen == {"redirect"}:
        found = ["a buffering-family error on a redirect"] if errors & BUFFERING_FAMILY else []
        if errors & REDIRECT_RULES:
            found.append("a redirect to https for the URI, but check calls it an error")
        return found
    redirected = {v for v in seen if v.startswith("redirect")}
    if redirected and redirected != seen:
        return ["some clients redirected, others not"]
    if redirected:  # away from https or from the URI: the chat request is lost
        return [] if errors else ["a redirect away from https or the URI, but no error finding"]
    found = []
    if not errors and seen != {"streams"}:
        found.append("no error finding, but it does not stream")
    if errors & BUFFERING_FAMILY and not seen & {"held", "partial"}:
        found.append("a buffering-family error, but nothing is held")
    if seen & {"held", "partial"} and not errors & BUFFERING_FAMILY:
        found.append("held or partial, but no buffering-family error")
    return found


@pytest.mark.skipif(not NAMES, reason="../shared/realworld/runnable is not beside the clone")
@pytest.mark.parametrize("name", NAMES)
def test_check_realworld_agrees_per_transport(
    name: str,
    corpus: dict[str, list[Measured] | str],
    record_property: Callable[[str, object], None],
) -> None:
    items = corpus[name]
    assert not isinstance(items, str), f"{name} could not be measured: {items}"
    for item in items:
        record_property(f"{item.uri} {item.transport}", f"{sorted(item.seen)} {item.errors}")
    wrong = [f"{item.describe()}: {why}" for item in items for why in disagreements(item)]
    assert not wrong, "\n".join(wrong)
    assert any(not _redirected(item) for item in items), "no streaming transport measured"


@pytest.mark.skipif(not NAMES, reason="../shared/realworld/runnable is not beside the clone")
def test_check_realworld_summary(corpus: dict[str, list[Measured] | str]) -> None:
    """Every config listed ran; the figures for the README."""
    assert set(corpus) == set(NAMES)
    items = [item for found in corpus.values() if not isinstance(found, str) for item in found]
    agree = sum(1 for item in items if not disagreements(item))
    streams = sum(1 for item in items if item.seen == {"streams"})
    held = sum(1 for item in items if item.seen & {"held", "partial"})
    print(
        f"\nrealworld corpus: {len(corpus)} configs, {len(items)} URI x transport measured "
        f"({streams} stream, {held} held/partial, "
        f"{sum(1 for i in items if _redirected(i))} redirect), {agree} agree with check"
    )
    for transport in TRANSPORT.values():
        mine = [item for item in items if item.transport == transport]
        print(
            f"  {transport}: {len(mine)} measured, {sum(1 for i in mine if not disagreements(i))} agree"
        )


@pytest.mark.parametrize(
    ("verdicts", "errors", "wrong"),
    [
        ({"identity": "streams", "gzip": "streams"}, [], False),
        ({"identity": "held", "gzip": "held"}, [], True),
        ({"identity": "streams", "gzip": "partial"}, ["proxy-buffering"], False),
        ({"identity": "streams", "gzip": "streams"}, ["proxy-buffering"], True),
        ({"identity": "held", "gzip": "held"}, ["read-timeout"], True),
        ({"identity": "streams", "gzip": "streams"}, ["port-mismatch"], False),
        ({"identity": "redirect", "gzip": "redirect"}, [], False),
        ({"identity": "redirect", "gzip": "redirect"}, ["no-proxy-pass"], True),
        ({"identity": "redirect", "gzip": "redirect"}, ["missing-location"], True),
        ({"identity": "redirect to https://h/", "gzip": "redirect to https://h/"}, [], True),
        (
            {"identity": "redirect to http://h/api", "gzip": "redirect to http://h/api"},
            ["no-proxy-pass"],
            False,
        ),
        ({"identity": "redirect", "gzip": "redirect"}, ["proxy-buffering"], True),
        ({"identity": "redirect", "gzip": "streams"}, [], True),
        ({"identity": "error", "gzip": "error"}, [], True),
    ],
)
def test_disagreements_is_the_truth_contract(
    verdicts: dict[str, str], errors: list[str], wrong: bool
) -> None:
    """The contract itself can fail: a held stream without a buffering error, a buffering
    error on a stream that streams, no error on a stream that errs."""
    item = Measured("/api/chat", "http1.1+tls", "localhost", 1, verdicts=verdicts, errors=errors)
    assert bool(disagreements(item)) is wrong
