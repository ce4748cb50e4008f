"""Requests nginx answers itself before any backend (a plain server's redirect to https, a fixed
`return`), and whether such a redirect sends the client to https for the same URI: the one
recogniser `check` (no-proxy-pass, missing-location) and `fix` (servers to leave alone) share."""

from __future__ import annotations

import re

from versectl.nginx.directive import Directive
from versectl.nginx.model.pcre import MATCH_TIMEOUT, compile_regex
from versectl.nginx.model.select import LocationMatch

REDIRECT_CODES = frozenset({"301", "302", "303", "307", "308"})
_SAME_URI = re.compile(
    r"https://[^/?#\s]+?(\$request_uri|\$\{request_uri\}|\$uri(\$is_args\$args)?)\??",
    re.IGNORECASE,
)
"""`https://HOST[:PORT]` (variables allowed) followed by the whole request URI: the Location
keeps the path, so the TLS server is asked for the very URI the client sent."""
_CAPTURE_ALL = re.compile(r"https://[^/?#\s]+?(/?)\$1\??", re.IGNORECASE)
"""`rewrite ^(.*)$ https://$host$1` or `rewrite ^/(.*)$ https://$host/$1`: the path rebuilt
from the regex's one capture group."""


def is_redirect(statement: Directive) -> bool:
    """`return 301..308 URL`, `return URL` (a 302), or a `rewrite` that redirects (to an
    absolute URL, or flagged `permanent`/`redirect`)."""
    args = statement.args
    if statement.name == "return":
        return bool(args) and (args[0] in REDIRECT_CODES or (len(args) == 1 and _absolute(args[0])))
    if statement.name == "rewrite" and len(args) >= 2:
        return _absolute(args[1]) or args[-1] in ("permanent", "redirect")
    return False


def nginx_answer(match: LocationMatch) -> Directive | None:
    """The statement that answers this request instead of the backend, or None: a `return` in
    the server, the selected location redirecting (`location / { return 301 ... }`), or, in a
    server without TLS, certbot's `if ($host = x) { return 301 https://... }` or a server-level
    `rewrite ^ https://...`. (A server-level `if` runs before any location, so in a server that
    also listens with TLS, as Nginx Proxy Manager's `if ($scheme = "http")` does, the TLS
    requests it lets through still reach the locations.)"""
    server = match.server
    plain = not any("ssl" in listen.split() for listen in match.listen)
    # the server's rewrite phase runs its statements in order, before the location search
    for statement in server.block or ():
        if statement.name == "return":
            return statement
        if plain and statement.name == "rewrite" and is_redirect(statement):
            return statement
        if plain and statement.name == "if":
            inner = next((s for s in statement.block or () if is_redirect(s)), None)
            if inner is not None:
                return inner
    location = match.location
    if location is not None:
        return next((s for s in location.block or () if is_redirect(s)), None)
    return None


def to_https_same_uri(statement: Directive, uri: str) -> bool:
    """Whether `statement` redirects a request for `uri` to https for that same URI (any host):
    the client then asks the TLS server, which is judged on its own. A redirect to plain http,
    to another path (`return 301 https://x/`) or a rewrite whose regex misses `uri` is not."""
    args = statement.args
    if statement.name == "return" and is_redirect(statement):
        return _SAME_URI.fullmatch(args[-1]) is not None
    if statement.name != "rewrite" or len(args) < 2 or not is_redirect(statement):
        return False
    compiled = compile_regex(args[0], False)
    if compiled is None:
        return False
    try:
        found = compiled.search(uri, timeout=MATCH_TIMEOUT)
    except TimeoutError:  # a regex that backtracks without end: not a known redirect
        return False
    if found is None:
        return False
    if _SAME_URI.fullmatch(args[1]) is not None:
        return True
    capture = _CAPTURE_ALL.fullmatch(args[1])
    if capture is None or found.re.groups < 1 or found.group(1) is None:
        return False
    return capture.group(1) + found.group(1) == uri


def _absolute(target: str) -> bool:
    return target.lower().startswith(("https://", "http://", "$scheme://"))
