"""The parsed nginx statement: name, arguments, position, and the block it opens (if any)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


# slots: a 15 MiB config is a million statements; a __dict__ each was a third of its memory
@dataclass(frozen=True, slots=True)
class Directive:
    """One nginx statement as written, with the file and line it is written at.

    `block` is None for a simple directive (`proxy_pass ...;`) and a tuple (maybe empty) for a
    block (`location /api { ... }`). `include` statements never appear: the loader replaces
    them with the included files' statements, each keeping its own file and line.
    """

    name: str
    args: tuple[str, ...]
    file: str
    line: int
    block: tuple[Directive, ...] | None = None
    _index: dict[str, tuple[Directive, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def where(self) -> str:
        """`file:line`, the position users click on."""
        return f"{self.file}:{self.line}"

    def children(self, name: str) -> Iterator[Directive]:
        """The direct children called `name` (none for a simple directive), in order."""
        block = self.block or ()
        if len(block) <= _SCAN:
            return (child for child in block if child.name == name)
        index = self._index
        if index is None:
            index = self._build_index()
        return iter(index.get(name, ()))

    def _build_index(self) -> dict[str, tuple[Directive, ...]]:
        # built once per block: an http block with 500 servers is searched for every
        # directive of every location, which must not cost a scan each time
        grouped: dict[str, list[Directive]] = {}
        for child in self.block or ():
            grouped.setdefault(child.name, []).append(child)
        index = {name: tuple(found) for name, found in grouped.items()}
        object.__setattr__(self, "_index", index)  # a cache, not state: frozen otherwise
        return index

    def render(self) -> str:
        """The statement as nginx source text, one line (blocks abbreviated)."""
        args = " ".join(_quote(arg) for arg in self.args)
        head = f"{self.name} {args}".rstrip()
        return f"{head} {{ ... }}" if self.block is not None else f"{head};"


_SCAN = 8
"""Blocks this small are scanned: cheaper than a dict per block (most locations are small)."""


def _quote(arg: str) -> str:
    # Arguments came unquoted from the lexer; quote the ones that would not survive re-reading.
    if arg == "" or any(ch.isspace() or ch in "{};\"'" for ch in arg):
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return arg
