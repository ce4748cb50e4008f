"""The lazy command table: every command is listed, builds, and says what its docstring says;
`--help` and `check nginx` import no module of another command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.python_probe import versectl_modules
from versectl.cli import COMMANDS
from versectl.commands.lazy import LazyCommand


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_lazy_summary_is_the_docstrings_first_line(command: LazyCommand) -> None:
    built = command.build()
    assert built.name == command.name
    if command.target.count(":") == 2:  # a group: its one subcommand carries the docstring
        assert built.help == command.summary
        return
    doc = (command.load().__doc__ or "").strip().splitlines()[0]
    assert doc == command.summary


def _modules_after(*args: str) -> set[str]:
    return versectl_modules(*args)[0]


def test_lazy_help_imports_no_command_rich_or_pydantic() -> None:
    loaded = _modules_after("--help")
    assert not {m for m in loaded if m.startswith("versectl.commands.")} - {
        "versectl.commands.lazy"
    }
    assert not {m for m in loaded if m.split(".")[0] in ("rich", "pydantic", "asyncio")}


def test_lazy_check_nginx_imports_only_its_command(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { location /api { proxy_pass http://127.0.0.1:7776; } }\n")
    loaded = _modules_after("check", "nginx", "--offline", str(site))
    assert "versectl.commands.check_nginx" in loaded and "versectl.nginx.check" in loaded
    others = {f"versectl.commands.{name}" for name in ("probe_stream", "fix", "doctor", "rules")}
    assert not loaded & others
    assert not {m for m in loaded if m.split(".")[0] in ("rich", "pydantic", "asyncio", "httpx")}
