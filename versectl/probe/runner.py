"""Run the probe plan: -n runs of -c concurrent streams, to the target over each HTTP version
(HTTP/2 as a browser, HTTP/1.1 as an SDK) and to --direct."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from versectl.probe.analysis import StreamAnalysis, aggregate, analyze
from versectl.probe.attribution import Attribution, attribute, protocol_hold
from versectl.probe.client import make_ssl_context, probe_stream
from versectl.probe.protocol import HttpVersion, client_kind
from versectl.probe.record import ProbeRequest, StreamRecord
from versectl.probe.session import login

Observer = Callable[[StreamRecord], None]
"""Told about every stream record before its request goes out (the live view keeps them)."""


@dataclass(frozen=True, slots=True)
class ProbePlan:
    request: ProbeRequest
    direct_url: str | None = None
    runs: int = 1
    concurrency: int = 1
    login_password: str | None = None
    """Set when --login: POST /api/session first with this password."""
    versions: tuple[HttpVersion, ...] = (HttpVersion.http1_1,)
    """The target is probed over each, in this order (versectl.probe.protocol)."""


@dataclass(frozen=True, slots=True)
class TargetProbe:
    """The target's streams over one HTTP version, and what explains them."""

    version: HttpVersion
    client: str
    """The client kind these streams stand for: "h2", "http1.1+tls" or "http1.1"."""
    analyses: list[StreamAnalysis]
    attribution: Attribution | None
    """Against --direct, or against the other version when only one of them is held."""


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    targets: list[TargetProbe]
    direct: list[StreamAnalysis] | None

    @property
    def target(self) -> list[StreamAnalysis]:
        """Every stream to the target, over every version: their aggregate is the worst."""
        return [a for probe in self.targets for a in probe.analyses]


async def run_streams(
    slots: Sequence[ProbeRequest], runs: int, observer: Observer | None = None
) -> list[StreamRecord]:
    """`runs` rounds of one stream per slot at once; every record, in start order.

    A slot is a request (its own session cookie with --login: verse_backend allows a session
    only 2 streams at once). One TLS context serves all streams: building one costs ms.
    """
    context = make_ssl_context(slots[0].insecure, slots[0].cacert)
    records: list[StreamRecord] = []
    for _run in range(runs):
        batch = [(request, StreamRecord(url=request.url)) for request in slots]
        for _request, record in batch:
            if observer is not None:
                observer(record)
        await asyncio.gather(
            *(
                probe_stream(request, record=record, ssl_context=context)
                for request, record in batch
            )
        )
        records.extend(record for _request, record in batch)
    return records


@contextmanager
def _no_collector_pauses() -> Iterator[None]:
    """A full garbage collection over the tens of thousands of objects that httpx, rich and
    typer leave behind pauses for milliseconds: between a read and its timestamp, that is a
    measurement error. Stream records hold no cycles, so collecting afterwards is enough."""
    gc.freeze()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()


async def run_plan(plan: ProbePlan, observer: Observer | None = None) -> ProbeOutcome:
    with _no_collector_pauses():
        return await _run_plan(plan, observer)


async def _run_plan(plan: ProbePlan, observer: Observer | None) -> ProbeOutcome:
    slots = [plan.request] * plan.concurrency
    if plan.login_password is not None:
        password = plan.login_password
        jars = await asyncio.gather(*(login(request, password) for request in slots))
        slots = [dataclasses.replace(plan.request, cookies=jar) for jar in jars]
    # one version after the other: at once, they would compete for the 2 cores the timing needs
    by_version: list[tuple[HttpVersion, list[StreamAnalysis]]] = []
    for version in plan.versions:
        versioned = [dataclasses.replace(request, http_version=version) for request in slots]
        records = await run_streams(versioned, plan.runs, observer)
        by_version.append((version, [analyze(r) for r in records]))
    direct: list[StreamAnalysis] | None = None
    if plan.direct_url is not None:
        # the backend behind the proxy speaks HTTP/1.1 whatever the client speaks to the proxy
        direct_slots = [
            dataclasses.replace(request, url=plan.direct_url, http_version=HttpVersion.http1_1)
            for request in slots
        ]
        direct = [analyze(r) for r in await run_streams(direct_slots, plan.runs, observer)]
    verdicts = {client_kind(v, plan.request.url): aggregate(a).verdict for v, a in by_version}
    targets = []
    for version, analyses in by_version:
        client = client_kind(version, plan.request.url)
        hold = protocol_hold(client, verdicts)
        if direct is not None:
            attribution: Attribution | None = attribute(analyses, direct, hold)
        else:
            attribution = hold
        targets.append(TargetProbe(version, client, analyses, attribution))
    return ProbeOutcome(targets, direct)
