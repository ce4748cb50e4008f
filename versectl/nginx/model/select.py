"""Which server and location nginx selects for a request URI (ngx_http_core_find_location):
exact `=` first, then the longest prefix (searching its nested locations), whose `^~` skips
regexes, then regexes `~`/`~*` in config order, nested ones inside the longest prefix first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from versectl.errors import InputError
from versectl.nginx.directive import Directive
from versectl.nginx.load import LoadedConfig
from versectl.nginx.model.pcre import compile_regex, regex_search


@dataclass(frozen=True)
class LocationMatch:
    """The outcome of nginx's location search for one URI in one server."""

    uri: str
    server: Directive
    server_names: tuple[str, ...]
    listen: tuple[str, ...]
    location: Directive | None
    """None: no location in this server matches the URI."""
    chain: tuple[Directive, ...]
    """Enclosing blocks from http (synthetic, line 0, for a site file read alone) down to the
    selected (possibly nested) location; settings inherit along this chain."""


@dataclass(frozen=True)
class LocationPattern:
    """A `location` block's modifier and pattern, as nginx parses its arguments."""

    modifier: str
    """"=", "^~", "~", "~*", "@" (named) or "" (plain prefix)."""
    pattern: str


def location_pattern(location: Directive) -> LocationPattern:
    """Split `location = /x`, `location =/x`, `location ~* \\.php$`, `location @x`, ..."""
    args = location.args
    if len(args) >= 2 and args[0] in ("=", "^~", "~", "~*"):
        return LocationPattern(args[0], args[1])
    name = args[0] if args else ""
    if name.startswith("@"):
        return LocationPattern("@", name)
    for modifier in ("^~", "~*", "=", "~"):  # longest first: "~*" before "~"
        if name.startswith(modifier) and len(name) > len(modifier):
            return LocationPattern(modifier, name[len(modifier) :])
    return LocationPattern("", name)


def http_blocks(config: LoadedConfig) -> list[Directive]:
    return [d for d in config.root if d.name == "http" and d.block is not None]


def servers(config: LoadedConfig) -> list[tuple[Directive, Directive]]:
    """Every http server as (its http block, server). For site files read alone (servers at
    top level) the http block is synthetic: line 0, holding the files' top-level statements,
    which is where nginx.conf's `include` puts them."""
    found: list[tuple[Directive, Directive]] = []
    site_http: Directive | None = None
    for stmt in config.root:
        if stmt.name == "http" and stmt.block is not None:
            found += [(stmt, s) for s in stmt.children("server") if s.block is not None]
        elif stmt.name == "server" and stmt.block is not None:
            if site_http is None:
                top = tuple(d for d in config.root if d.name != "http")
                site_http = Directive("http", (), config.main_file, 0, top)
            found.append((site_http, stmt))
    return found


def server_names(server: Directive) -> tuple[str, ...]:
    names = tuple(arg for d in server.children("server_name") for arg in d.args)
    return names or ("",)  # nginx's default server_name is ""


def listens(server: Directive) -> tuple[str, ...]:
    found = tuple(" ".join(d.args) for d in server.children("listen"))
    return found or ("80",)  # nginx's default (when run as root): *:80


def server_name_matches(name: str, patterns: Sequence[str]) -> bool:
    """nginx's server_name forms: exact, `*.x.com`, `www.x.*`, `.x.com`, `~regex`."""
    name = name.lower().rstrip(".")
    for pattern in patterns:
        p = pattern.lower()
        if p.startswith("~"):
            regex = compile_regex(p[1:], False)
            if regex is not None and regex_search(regex, name):
                return True
        elif p.startswith("."):
            if name == p[1:] or name.endswith(p):
                return True
        elif p.startswith("*."):
            if name.endswith(p[1:]) and len(name) > len(p) - 1:
                return True
        elif p.endswith(".*"):
            if name.startswith(p[:-1]):
                return True
        elif p == name:
            return True
    return False


def select_locations(
    config: LoadedConfig,
    uris: Sequence[str],
    server_name: str | None = None,
    only: Sequence[Directive] | None = None,
) -> list[LocationMatch]:
    """For every server (those matching `server_name`, and among `only` when given) and URI,
    the location nginx selects; `location` is None where none matches. Order: servers in
    config order, then URIs."""
    matches: list[LocationMatch] = []
    memo: Patterns = {}
    wanted = None if only is None else {id(s) for s in only}
    for http, server in servers(config):
        if wanted is not None and id(server) not in wanted:
            continue
        names = server_names(server)
        if server_name is not None and not server_name_matches(server_name, names):
            continue
        merge = _merge_slashes(http, server)
        for uri in uris:
            path = normalize_uri(uri, merge_slashes=merge)
            found = find_location(server, path, memo)
            chain = (http, server, *found)
            matches.append(
                LocationMatch(
                    uri=uri,
                    server=server,
                    server_names=names,
                    listen=listens(server),
                    location=found[-1] if found else None,
                    chain=chain,
                )
            )
    return matches


@lru_cache(maxsize=1024)  # the same few URIs for every server of a big config
def normalize_uri(uri: str, *, merge_slashes: bool = True) -> str:
    """The path nginx matches locations against (ngx_http_parse_complex_uri): the query and
    fragment cut off, `%XX` decoded, `//` merged (merge_slashes on, the default), `.` and
    `..` segments resolved, also when written `%2e` or `%2F`. What nginx answers 400 to
    (`/..` above the root, a bad or `%00` escape) is InputError."""
    raw = uri.split("?", 1)[0].split("#", 1)[0] or "/"
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        i += 1
        literal = False
        if ch == "%":
            pair = raw[i : i + 2]
            if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
                raise InputError(f"--uri {uri!r}: a bad %-escape: nginx answers 400")
            ch = chr(int(pair, 16))
            i += 2
            if ch == "\0":
                raise InputError(f"--uri {uri!r}: %00 in the path: nginx answers 400")
            # nginx keeps a decoded % # ? as it is; any other decoded byte counts as written
            literal = ch in "%#?"
        # after a resolved `.`/`..` the `/` before it stands for this one
        if (
            ch == "/"
            and not literal
            and (_resolve_dots(out, uri) or (merge_slashes and out and out[-1] == "/"))
        ):
            continue
        out.append(ch)
    _resolve_dots(out, uri)
    # bytes decoded one by one: a multi-byte UTF-8 sequence becomes its characters again
    return "".join(out).encode("latin-1").decode("utf-8", errors="surrogateescape")


def _resolve_dots(out: list[str], uri: str) -> bool:
    """Drop a `.` or `..` segment that just ended (at a `/` or the end of the path)."""
    if out[-2:] == ["/", "."]:
        del out[-1]
        return True
    if out[-3:] == ["/", ".", "."]:
        del out[-3:]
        if not out:
            raise InputError(f"--uri {uri!r}: `..` above the root: nginx answers 400")
        while out[-1] != "/":
            out.pop()
        return True
    return False


def _merge_slashes(http: Directive, server: Directive) -> bool:
    # merge_slashes is an http/server directive (the last one in a block counts), on by default
    for block in (server, http):
        found = list(block.children("merge_slashes"))
        if found and found[-1].args:
            return found[-1].args[0].lower() != "off"
    return True


def find_location(
    container: Directive, uri: str, memo: Patterns | None = None
) -> tuple[Directive, ...]:
    """The path of (nested) locations nginx selects for `uri` under `container`; () for none."""
    path, _final = _search(container, uri, {} if memo is None else memo)
    return path


def _search(container: Directive, uri: str, memo: Patterns) -> tuple[tuple[Directive, ...], bool]:
    """nginx's recursive search; `final` means an exact or regex match ended it."""
    locations = _patterns(container, memo)
    best: Directive | None = None
    best_len = -1
    noregex = False
    for loc, pat in locations:
        if pat.modifier == "=" and pat.pattern == uri:
            return (loc,), True
        if (
            pat.modifier in ("", "^~")
            and uri.startswith(pat.pattern)
            and len(pat.pattern) > best_len
        ):
            best, best_len, noregex = loc, len(pat.pattern), pat.modifier == "^~"
    path: tuple[Directive, ...] = ()
    if best is not None:
        nested, final = _search(best, uri, memo)
        if final:
            return (best, *nested), True
        path = (best, *nested)
    if not noregex:
        for loc, pat in locations:
            if pat.modifier in ("~", "~*"):
                regex = compile_regex(pat.pattern, pat.modifier == "~*")
                if regex is not None and regex_search(regex, uri, loc):
                    nested, _final = _search(loc, uri, memo)
                    return (loc, *nested), True
    return path, False


Patterns = dict[int, list[tuple[Directive, LocationPattern]]]


def _patterns(container: Directive, memo: Patterns) -> list[tuple[Directive, LocationPattern]]:
    """The container's locations with their parsed patterns, once per block and search run
    (every URI searches the same blocks; the blocks outlive the memo, so ids stay unique)."""
    found = memo.get(id(container))
    if found is None:
        found = memo[id(container)] = [
            (d, location_pattern(d)) for d in container.children("location")
        ]
    return found
