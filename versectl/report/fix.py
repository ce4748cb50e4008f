"""`versectl fix` output: what changes where and why, the unified diff, and what was written."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from versectl.fix.merge import Change
from versectl.fix.plan import BlockChange
from versectl.fix.run import FixOutcome
from versectl.report.output import print_warning

JSON_VERSION = 1
_ACTION_TEXT = {
    "rewrite": "changed where it holds the stream back",
    "insert": "added (only a catch-all that holds the stream back, or nothing, served the chat)",
    "unchanged": "streams already: unchanged",
    "skipped": "skipped",
}


def outcome_json(outcome: FixOutcome) -> dict[str, Any]:
    """One JSON document for scripts."""
    written = outcome.written
    validation = written.validation if written else None
    return {
        "version": JSON_VERSION,
        "file": str(outcome.path),
        "backend_port": outcome.backend.port,
        "backend_port_source": outcome.backend.source,
        "changed": outcome.plan.changed,
        "written": written is not None,
        "target": str(written.target) if written else None,
        "backup": str(written.backup) if written and written.backup else None,
        "blocks": [_block_json(change) for change in outcome.plan.changes],
        "diff": outcome.diff,
        "validation": {
            "status": validation.status if validation else "not_run",
            "how": validation.how if validation else outcome.main.how,
            "command": validation.command if validation else [],
            "output": validation.output if validation else "",
        },
        "check_errors_after": outcome.errors_after,
        "reload": None
        if outcome.reload is None
        else {
            "ok": outcome.reload.ok,
            "command": outcome.reload.command,
            "output": outcome.reload.output,
        },
        "notes": outcome.notes,
    }


def _block_json(change: BlockChange) -> dict[str, Any]:
    merged = change.merge
    return {
        "action": change.action,
        "line": change.target.line,
        "line_after": change.line_after or None,
        "match": change.match,
        "uris": list(change.target.uris),
        "replaced": [_change_json(c) for c in merged.replaced] if merged else [],
        "added": list(merged.added) if merged else [],
        "same": [_change_json(c) for c in merged.same] if merged else [],
        "kept": [_change_json(c) for c in merged.kept_changes] if merged else [],
        "dropped": [_change_json(c) for c in merged.dropped] if merged else [],
        "notes": [*change.notes, *(merged.notes if merged else [])],
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {"line": change.line, "source": change.source, "reason": change.reason}


def render_outcome(outcome: FixOutcome, console: Console, *, write: bool) -> None:
    """The human report on stdout; the loud warnings on stderr. Never wrapped: the diff must
    stay a diff (copied, piped to `patch`) whatever the terminal's width."""
    console.soft_wrap = True
    backend = outcome.backend
    console.print(
        f"[bold]{escape(str(outcome.path))}[/]  backend port {backend.port} "
        f"({escape(backend.source)}{': ' + escape(backend.detail) if backend.detail else ''})"
    )
    for change in outcome.plan.changes:
        _render_block(change, console)
    for note in outcome.notes:
        console.print(f"  [dim]note:[/] {escape(note)}")
    if outcome.diff:
        console.print()
        console.print(_diff_text(outcome.diff), end="")
        console.print()
    if not outcome.plan.changed:
        console.print("[green]Nothing to change.[/]")
    elif not write:
        console.print("Dry run: nothing written. Apply with [bold]--write[/].")
    else:
        _render_written(outcome, console)


def warn_if_unvalidated(outcome: FixOutcome) -> None:
    """Loud, on stderr, in every format: a write nginx -t never saw."""
    if outcome.written is not None and outcome.written.validation.status == "skipped":
        print_warning(
            "VALIDATION SKIPPED: nginx is not installed here, so the fixed file was NOT checked "
            "with `nginx -t`. Run `sudo nginx -t` before reloading nginx."
        )


def _render_block(change: BlockChange, console: Console) -> None:
    uris = escape(", ".join(change.target.uris))
    if change.target.kind == "insert" and change.action != "unchanged":
        where = f"server at line {change.target.line}: location {escape(change.match)} for {uris}"
    else:
        where = f"location {escape(change.match)} (serves {uris})"
        if change.line_after:
            where = f"line {change.line_after}: {where}"
    console.print(f"  {where}: {_ACTION_TEXT[change.action]}")
    merged = change.merge
    if merged is not None and change.action in ("rewrite", "insert"):
        for item in merged.replaced:
            console.print(
                f"    [red]changed[/]  {_at(item)}{escape(_one_line(item.source))} "
                f"{escape(item.reason)}"
            )
        for added in merged.added:
            console.print(f"    [green]added[/]    {escape(added)}")
        for item in merged.kept_changes:
            console.print(
                f"    [blue]kept[/]     {_at(item)}{escape(_one_line(item.source))} "
                f"({escape(item.reason)})"
            )
        for item in merged.dropped:
            console.print(
                f"    [yellow]dropped[/]  {_at(item)}{escape(_one_line(item.source))}"
                f" ({escape(item.reason)})"
            )
        if merged.same and change.action == "rewrite":
            console.print(
                f"    unchanged: {len(merged.same)} line(s) already as in the known-good block"
            )
    for note in [*change.notes, *(merged.notes if merged else [])]:
        console.print(f"    [dim]note:[/] {escape(note)}")


def _at(change: Change) -> str:
    """`line N: `, or nothing for a statement of a new block (line 0)."""
    return f"line {change.line}: " if change.line else ""


def _one_line(source: str) -> str:
    first, *rest = source.splitlines() or [""]
    return first + (" ..." if rest else "")


def _diff_text(diff: str) -> Text:
    text = Text()
    for line in diff.splitlines(keepends=True):
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        text.append(line, style=style)
    return text


def _render_written(outcome: FixOutcome, console: Console) -> None:
    written = outcome.written
    assert written is not None
    validation = written.validation
    console.print(f"[bold green]Written:[/] {escape(str(written.target))}")
    if outcome.path.is_symlink():
        console.print(f"  ({escape(str(outcome.path))} is a symlink to it and stays one)")
    if validation.status == "passed":
        console.print(f"  nginx -t passed with the fixed file in place ({escape(validation.how)})")
    if written.backup is not None:
        console.print(f"  backup: {escape(str(written.backup))}")
        if outcome.backup_hidden_because:
            console.print(
                "  (hidden with a leading dot: `include "
                f"{escape(outcome.backup_hidden_because[0])}` would load a visible backup as a "
                "second config)"
            )
    if outcome.errors_after is not None:
        style = "green" if outcome.errors_after == 0 else "red"
        console.print(
            f"  check nginx: [{style}]{outcome.errors_after} error(s)[/] left for the fixed block(s)"
        )
    reload = outcome.reload
    if reload is None:
        console.print("  Apply it: [bold]sudo nginx -s reload[/] (or run fix with --reload)")
    elif reload.ok:
        console.print(
            "  [green]nginx -s reload: signal sent[/]; nginx applies the config in the "
            "background (`versectl check nginx` reports a stale reload)"
        )
    else:
        console.print(f"  [red]nginx -s reload failed:[/] {escape(reload.output)}")
