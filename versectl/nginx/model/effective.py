"""Effective settings of a selected location: nginx's merge of http -> server -> location
(-> `if`), with the defaults nginx 1.22 compiles in. Array directives (proxy_set_header,
add_header, ...) are replaced wholesale by the innermost level that has any of them
(versectl.nginx.directive_table says which and holds the defaults)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from versectl.nginx.directive import Directive
from versectl.nginx.directive_table import ARRAY_DIRECTIVES, DEFAULTS, HANDLERS
from versectl.nginx.model.select import LocationMatch

# Not merged from outer levels: the content handler belongs to its location (an `if` or
# `limit_except` inside the location inherits it).
_HANDLERS = frozenset(HANDLERS)


@dataclass(frozen=True)
class Setting:
    """One directive's effective value and where it came from."""

    name: str
    directives: tuple[Directive, ...]
    """The statements that set it (several for an array directive); () when it is the default."""
    level: str
    """http | server | location | if | limit_except | default"""
    default: tuple[str, ...] | None = None

    @property
    def is_default(self) -> bool:
        return not self.directives

    @property
    def args(self) -> tuple[str, ...]:
        """The arguments of the (last) setting statement, or the default's."""
        if self.directives:
            return self.directives[-1].args
        return self.default or ()

    @property
    def value(self) -> str:
        return " ".join(self.args)

    @property
    def entries(self) -> tuple[tuple[str, ...], ...]:
        """Each statement's arguments: the list an array directive stands for."""
        if self.directives:
            return tuple(d.args for d in self.directives)
        return (self.default,) if self.default else ()

    @property
    def file(self) -> str | None:
        return self.directives[-1].file if self.directives else None

    @property
    def line(self) -> int | None:
        return self.directives[-1].line if self.directives else None

    @property
    def origin(self) -> str:
        """`default`, or `http, nginx.conf:12`: how a report says where the value came from."""
        if not self.directives:
            return "default"
        first = self.directives[0]
        return f"{self.level}, {Path(first.file).name}:{first.line}"

    def describe(self) -> str:
        """`proxy_buffering on (default)` / `proxy_buffering off (location, site.conf:9)`."""
        shown = self.value if self.directives or self.default is not None else "(not set)"
        return f"{self.name} {shown} ({self.origin})"


class Effective:
    """Effective settings along one chain of blocks (http, server, location..., maybe `if`)."""

    def __init__(self, chain: Sequence[Directive]) -> None:
        self.chain = tuple(chain)
        self._cache: dict[str, Setting] = {}

    def __getitem__(self, name: str) -> Setting:
        return self.get(name)

    def get(self, name: str) -> Setting:
        if name not in self._cache:
            self._cache[name] = self._compute(name)
        return self._cache[name]

    def _compute(self, name: str) -> Setting:
        levels = self.chain
        if name in _HANDLERS:
            levels = self._handler_levels()
        for block in reversed(levels):
            found = tuple(block.children(name))
            if found:
                if name not in ARRAY_DIRECTIVES:
                    found = found[-1:]  # a simple directive: the last one counts
                return Setting(name, found, block.name, DEFAULTS.get(name))
        return Setting(name, (), "default", DEFAULTS.get(name))

    def _handler_levels(self) -> tuple[Directive, ...]:
        # the innermost location plus any `if`/`limit_except` inside it
        levels: list[Directive] = []
        for block in self.chain:
            if block.name in ("http", "server", "location"):
                levels = []
            levels.append(block)
        return tuple(b for b in levels if b.name in ("location", "if", "limit_except"))

    def is_on(self, name: str) -> bool:
        return self.get(name).value.lower() == "on"

    def handler(self) -> Setting | None:
        """The content handler that forwards the request (proxy_pass, grpc_pass, ...)."""
        for name in HANDLERS:
            setting = self.get(name)
            if setting.directives:
                return setting
        return None


def effective(match: LocationMatch | Sequence[Directive]) -> Effective:
    """Effective settings of a LocationMatch (its chain) or of an explicit chain of blocks."""
    return Effective(match.chain if isinstance(match, LocationMatch) else match)


def variants(chain: Sequence[Directive]) -> list[tuple[Directive, ...]]:
    """The chain itself, then one chain per `if` block of the selected location: when its
    condition holds at run time nginx switches to that block's merged settings."""
    result = [tuple(chain)]
    if chain and chain[-1].name == "location":
        result += [(*chain, block) for block in chain[-1].children("if")]
    return result
