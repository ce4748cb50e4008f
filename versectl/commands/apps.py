"""`versectl apps`: the chat apps versectl knows (name, streaming URIs, backend port, framing)."""

from __future__ import annotations

from typing import Annotated

import typer

from versectl.report.output import OutputFormat


def command(
    *,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table (for people) or json (for scripts).")
    ] = OutputFormat.table,
) -> None:
    """List the app profiles for --app: name, streaming URIs, usual backend port, framing."""
    from versectl.apps.profile import all_profiles
    from versectl.report.apps import render_apps

    render_apps(all_profiles(), output_format)
