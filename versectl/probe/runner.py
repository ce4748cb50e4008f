"""Run the probe plan: -n runs of -c concurrent streams, to the target and to --direct."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from collections.abc import Callable, Iterator
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
    request: ProbeRequest, runs: int, concurrency: int, observer: Observer | None = None
) -> list[StreamRecord]:
    """Every stream's record, in start order; one TLS context shared by all of them."""
    context = make_ssl_context(request.insecure)
    records: list[StreamRecord] = []
    for _run in range(runs):
        batch = [StreamRecord(url=request.url) for _ in range(concurrency)]
        for record in batch:
            if observer is not None:
                observer(record)
        await asyncio.gather(
            *(probe_stream(request, record=record, ssl_context=context) for record in batch)
        )
        records.extend(batch)
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
    request = plan.request
    if plan.login_password is not None:
        request = dataclasses.replace(request, cookies=await login(request, plan.login_password))
    target = [analyze(r) for r in await run_streams(request, plan.runs, plan.concurrency, observer)]
    if plan.direct_url is None:
        return ProbeOutcome(target, None, None)
    direct_request = dataclasses.replace(request, url=plan.direct_url)
    direct = [
        analyze(r) for r in await run_streams(direct_request, plan.runs, plan.concurrency, observer)
    ]
    return ProbeOutcome(target, direct, attribute(target, direct))
