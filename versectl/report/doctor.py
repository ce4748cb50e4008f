"""Rendering of `versectl doctor`: the check report, the probe report, then the advice; or JSON."""

from __future__ import annotations

from typing import Any

from versectl.doctor import Diagnosis, verdicts_by_client
from versectl.report.check import render_check
from versectl.report.check_json import check_json
from versectl.report.output import OutputFormat, emit_json, literal, stdout_console
from versectl.report.probe import outcome_json, render_outcome, stream_json


def diagnosis_json(diagnosis: Diagnosis) -> dict[str, Any]:
    """One document: the check's and the probe's own documents, side by side, and the advice."""
    return {
        "version": 1,
        "check": check_json(diagnosis.check) if diagnosis.check else None,
        "check_error": diagnosis.check_error,
        "probe": outcome_json(diagnosis.probe) if diagnosis.probe else None,
        "probe_error": (
            {"kind": diagnosis.probe_error[0], "message": diagnosis.probe_error[1]}
            if diagnosis.probe_error
            else None
        ),
        "verdicts_by_client": {
            client: str(verdict) for client, verdict in verdicts_by_client(diagnosis.probe).items()
        },
        "local": (None if diagnosis.local is None else [stream_json(a) for a in diagnosis.local]),
        "reached": diagnosis.reached,
        "advice": diagnosis.advice,
        "exit_code": int(diagnosis.exit_code),
    }


def render_diagnosis(diagnosis: Diagnosis, output_format: OutputFormat) -> None:
    if output_format is OutputFormat.json:
        emit_json(diagnosis_json(diagnosis))
        return
    console = stdout_console()
    if diagnosis.check is not None:
        render_check(diagnosis.check, OutputFormat.table, heartbeat=0)
        console.print()
    if diagnosis.probe is not None:
        render_outcome(diagnosis.probe, console)
        console.print()
    console.print("[bold]doctor says:[/]")
    for line in diagnosis.reached:
        console.print(f"  - {literal(line)}")
    for line in diagnosis.advice:
        console.print(f"  - {literal(line)}")
