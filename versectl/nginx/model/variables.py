"""The address in a proxy_pass URL written with variables: `set` values that are literal in the
location's scope replace theirs (Nginx Proxy Manager: `set $server ...; set $port ...;`), and
the address ends where a request-path variable (`$request_uri`) starts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from versectl.nginx.directive import Directive

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")

PATH_VARIABLES = frozenset(
    {"request_uri", "uri", "document_uri", "is_args", "args", "query_string"}
)
"""Variables that expand to a request path, a query or nothing: never part of host:port."""


def literal_sets(chain: Iterable[Directive]) -> dict[str, str]:
    """name -> value of the `set` statements that run before the request is proxied and whose
    value is literal: the server's, then the location's own (the innermost block of `chain`
    wins; nginx runs a location's rewrite directives only for the location it selected). A name
    also set inside an `if`, or set to a value with variables, depends on the request: left out."""
    blocks = [stmt for stmt in chain if stmt.name in ("server", "location")]
    scopes = [b for b in blocks if b.name == "server"][-1:] + [
        b for b in blocks if b.name == "location"
    ][-1:]
    values: dict[str, str] = {}
    varying: set[str] = set()
    for block in scopes:
        for stmt in block.block or ():
            if stmt.name == "set" and len(stmt.args) == 2 and stmt.args[0].startswith("$"):
                name, value = stmt.args[0][1:], stmt.args[1]
                if "$" in value:
                    varying.add(name)
                else:
                    values[name] = value
                    varying.discard(name)
            elif stmt.name == "if":
                varying.update(
                    inner.args[0][1:]
                    for inner in stmt.block or ()
                    if inner.name == "set" and inner.args
                )
    return {name: value for name, value in values.items() if name not in varying}


def address_url(url: str, values: Mapping[str, str]) -> str:
    """`url` up to its request path with `values` put in for their variables: what names the
    backend. Variables without a literal value stay as they are (`$` left in: unresolved)."""
    out: list[str] = []
    last = 0
    for match in _VARIABLE.finditer(url):
        name = match.group(1) or match.group(2)
        out.append(url[last : match.start()])
        last = match.end()
        if name in PATH_VARIABLES:
            return "".join(out)
        out.append(values.get(name, match.group(0)))
    out.append(url[last:])
    return "".join(out)
