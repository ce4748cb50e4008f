"""Rendering of `versectl apps`: one row per app profile, or one JSON document."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.table import Table

from versectl.apps.profile import AppProfile
from versectl.report.output import OutputFormat, emit_json, stdout_console


def render_apps(profiles: Sequence[AppProfile], output_format: OutputFormat) -> None:
    if output_format == OutputFormat.json:
        emit_json({"version": 1, "apps": [p.to_json() for p in profiles]})
        return
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("app", "port", "streaming URIs", "framing", "websocket"):
        table.add_column(column, overflow="fold")
    for profile in profiles:
        framings = " ".join(dict.fromkeys(s.framing for s in profile.streams))
        table.add_row(
            profile.name,
            str(profile.port),
            escape("\n".join(s.pattern for s in profile.streams)),
            framings,
            escape(" ".join(profile.websockets)) or "-",
        )
    console = stdout_console()
    console.print(table)
    console.print(
        "\n`versectl check nginx --app NAME`, `versectl probe-stream --app NAME URL`: the app's "
        "URIs, port, request body and framing as defaults."
    )
