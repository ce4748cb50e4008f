"""A command group that imports and builds a command only when it runs: typer builds a pydantic
adapter per parameter, so building every command costs more than running `check nginx`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

from versectl.exit_codes import EXIT_CODES_HELP

_TYPER: dict[str, Any] = {
    "add_completion": False,
    "rich_markup_mode": None,  # click's plain help and errors: rich's cost ~50 ms per start
    "pretty_exceptions_show_locals": False,  # secrets (keys, cookies) live in locals
}


@dataclass(frozen=True)
class LazyCommand:
    """A command by name: where its function lives and its one-line help for the listing."""

    name: str
    target: str
    """`module:function`, or `module:function:subcommand` for a group with one subcommand."""
    summary: str
    """The listing's line; a test holds it to the first line of the function's docstring."""

    def load(self) -> Callable[..., Any]:
        module, function = self.target.split(":")[:2]
        loaded: Callable[..., Any] = getattr(importlib.import_module(module), function)
        return loaded

    def build(self) -> _click.Command:
        """The click command, as `typer.Typer().command()` would have registered it."""
        parts = self.target.split(":")
        epilog = EXIT_CODES_HELP if self.name not in ("rules", "explain", "apps") else None
        if len(parts) == 3:  # `check nginx`: a group, so `check` keeps room for more kinds
            group = typer.Typer(**_TYPER, name=self.name, help=self.summary, no_args_is_help=True)
            group.callback()(_no_options)
            group.command(parts[2], epilog=epilog)(self.load())
            return typer.main.get_group(group)
        single = typer.Typer(**_TYPER)
        single.command(self.name, epilog=epilog)(self.load())
        return typer.main.get_command(single)


def _no_options() -> None:
    """A group callback without options (typer needs one to keep a group of one command)."""


class LazyGroup(TyperGroup):
    """The root group: lists every command of `lazy` without importing any, and builds the
    one that runs."""

    lazy: tuple[LazyCommand, ...] = ()

    def list_commands(self, ctx: _click.Context) -> list[str]:
        del ctx
        return [command.name for command in self.lazy]

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        command = next((c for c in self.lazy if c.name == cmd_name), None)
        if command is None:
            return None
        if ctx.meta.get(_LISTING):
            return _listed(command)
        built = command.build()
        self.commands[cmd_name] = built
        return built

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        # the listing needs each command's name and line only, not the commands themselves
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta.pop(_LISTING, None)


_LISTING = "versectl.listing"


def _listed(command: LazyCommand) -> _click.Command:
    """A stand-in that only names the command in the root's --help."""
    return TyperCommand(command.name, help=command.summary)
