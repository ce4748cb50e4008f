"""Run the probe plan: -n runs of -c concurrent streams, to the target and to --direct."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from versectl.probe.analysis import StreamAnalysis, analyze
from versectl.probe.attribution import Attribution, attribute
from versectl.probe.client import make_ssl_context, probe_stream
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


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    target: list[StreamAnalysis]
    direct: list[StreamAnalysis] | None
    attribution: Attribution | None


async def run_streams(
    slots: Sequence[ProbeRequest], runs: int, observer: Observer | None = None
) -> list[StreamRecord]:
    """`runs` rounds of one stream per slot at once; every record, in start order.

    A slot is a request (its own session cookie with --login: verse_backend allows a session
    only 2 streams at once). One TLS context serves all streams: building one costs ms.
    """
    context = make_ssl_context(slots[0].insecure)
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
    target = [analyze(r) for r in await run_streams(slots, plan.runs, observer)]
    if plan.direct_url is None:
        return ProbeOutcome(target, None, None)
    direct_slots = [dataclasses.replace(request, url=plan.direct_url) for request in slots]
    direct = [analyze(r) for r in await run_streams(direct_slots, plan.runs, observer)]
    return ProbeOutcome(target, direct, attribute(target, direct))
