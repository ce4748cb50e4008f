"""The config as it would be with the fixed text in place, read by check's loader and model,
so the plan is verified (each URI lands in a fixed block) before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from versectl.errors import FixError, VersectlError
from versectl.fix.plan import FilePlan
from versectl.fix.targets import find_targets
from versectl.nginx import load
from versectl.nginx.load import LoadedConfig


def load_candidate(config: LoadedConfig, path: Path, candidate: str) -> LoadedConfig:
    """`config` loaded again by check's loader with `candidate` as the text of `path`."""
    return load.load_replaced(config, str(path), candidate)


def verify_plan(
    config: LoadedConfig,
    plan: FilePlan,
    uris: Sequence[str],
    server_name: str | None,
    *,
    host: str | None = None,
    port: tuple[str | None, int] | None = None,
) -> LoadedConfig:
    """Refuse (FixError) unless, in the candidate config, every URI the fix is for is served by
    one of the planned blocks. Returns the candidate config."""
    path = Path(plan.path)
    try:
        after = load_candidate(config, path, plan.candidate)
        found = find_targets(after, plan.path, uris, server_name, host=host, port=port)
    except VersectlError as exc:
        raise FixError(f"the fixed config would not do: {exc}; nothing written") from None
    planned = {change.line_after for change in plan.changes if change.line_after}
    as_is = {  # catch-alls that stream already: still serving is right
        change.target.uris
        for change in plan.changes
        if change.target.kind == "insert" and change.action == "unchanged"
    }
    for target in found.targets:
        if target.kind == "rewrite" and target.line in planned:
            continue
        if target.kind == "insert" and target.uris in as_is:
            continue
        where = (
            f"the location at {plan.path}:{target.line}"
            if target.kind == "rewrite"
            else f"only a catch-all of the server at {plan.path}:{target.line}"
        )
        raise FixError(
            f"after the fix, {', '.join(target.uris)} would still be served by {where}, not by "
            "the fixed block (a regex location wins?); nothing written"
        )
    return after
