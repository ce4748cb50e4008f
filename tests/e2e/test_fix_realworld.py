"""`versectl fix` on every runnable real-world config (../shared/realworld/runnable), with its
own URIs, through a real nginx: the plan must hold up where users' configs are (issue 14).

Per config: nginx runs the original; fix --write; nginx -t passed (fix validates); no byte
outside the planned blocks changed; a second run has nothing to change; check nginx agrees
with fix's post-check; after a reload every URI is answered by the fixed block (a marker header
added to the test copy only) and streams to every client kind the config serves, while a
plain-HTTP server that redirected to https still redirects.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fix.realworld import file_bytes
from tests.fix.stream_clients import Answer, request
from tests.support.nginx import require_nginx
from tests.support.realworld import (
    Case,
    Nginx,
    case_names,
    host_for,
    names_and_ports,
    require_corpus,
    start,
)
from tests.support.scripted_server import Plan, ScriptedServer, scripted_server, sse_tokens
from tests.support.tls import TlsFiles
from versectl.fix.run import FixOptions, FixOutcome, run_fix
from versectl.fix.syntax import Statement, parse, walk
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Severity
from versectl.nginx.load import load_config
from versectl.nginx.model import select_locations

MARKER = "X-Versectl-Fixed"
TOKENS, GAP_S = 4, 0.2
"""The backend's answer: 4 tokens 0.2 s apart. Streamed, the first and last arrive ~0.6 s apart;
held by nginx, they arrive together. 0.3 s of spread is the verdict's generous margin."""
MIN_SPREAD_S = 0.3
REDIRECTS = range(300, 309)

NAMES = case_names()
require_corpus(NAMES)


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedServer]:
    """A standards-conforming streaming backend: HTTP/1.0 requests get a close-delimited
    answer (no chunks), the case where nginx's buffering holds the whole reply."""
    with scripted_server(Plan(sse_tokens(TOKENS, GAP_S))) as server:
        yield server


@pytest.fixture
def nginx_for() -> Iterator[list[Nginx]]:
    started: list[Nginx] = []
    yield started
    for server in started:
        server.stop()


def _start(
    binary: str, name: str, tmp_path: Path, backend_port: int, tls: TlsFiles, started: list[Nginx]
) -> tuple[Case, Nginx]:
    case, server = start(binary, name, tmp_path, backend_port, tls)
    started.append(server)
    return case, server


def _fix(case: Case, write: bool) -> FixOutcome:
    options = FixOptions(
        path=None, uris=case.uris, write=write, backend_port=case.backend_port,
        backup=False, nginx_conf=case.main,
    )  # fmt: skip
    return run_fix(options)


def _fixed_blocks(text: str, lines: set[int]) -> list[Statement]:
    return [s for s, _p in walk(parse(text)) if s.name == "location" and s.line in lines]


def _assert_only_blocks_changed(before: str, after: str, outcome: FixOutcome) -> None:
    """Every line that differs lies inside a block the plan names (old or new position)."""
    new_lines = {c.line_after for c in outcome.plan.changes if c.action != "unchanged"}
    old_lines = {c.target.line for c in outcome.plan.changes if c.target.kind == "rewrite"}
    new_ranges = [(b.line, b.end_line) for b in _fixed_blocks(after, new_lines)]
    old_ranges = [(b.line, b.end_line) for b in _fixed_blocks(before, old_lines)]
    a, b = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for index in range(i1, i2):
            assert not a[index].strip() or any(lo <= index + 1 <= hi for lo, hi in old_ranges), (
                f"line {index + 1} removed outside the planned blocks: {a[index]!r}"
            )
        for index in range(j1, j2):
            assert not b[index].strip() or any(lo <= index + 1 <= hi for lo, hi in new_ranges), (
                f"line {index + 1} added outside the planned blocks: {b[index]!r}"
            )


def _mark(path: Path, lines: set[int]) -> None:
    """Test copy only: the serving blocks answer with a marker header."""
    text = path.read_text(errors="surrogateescape")
    blocks = sorted(_fixed_blocks(text, lines), key=lambda b: b.open_brace, reverse=True)
    assert len(blocks) == len(lines), (lines, [b.line for b in blocks])
    for block in blocks:
        cut = block.open_brace + 1
        text = f"{text[:cut]} add_header {MARKER} {block.line} always;{text[cut:]}"
    path.write_text(text, errors="surrogateescape")


def _host_and_ports(case: Case, uri: str, path: Path, lines: set[int]) -> tuple[str, set[int]]:
    """The name and ports of the server whose fixed block serves `uri` (the model's view)."""
    for match in select_locations(load_config([str(case.main)]), [uri]):
        location = match.location
        here = location if location is not None else match.server
        if os.path.realpath(here.file) != os.path.realpath(path):
            continue
        if location is None or location.line not in lines:
            continue
        return names_and_ports(match)
    raise AssertionError(f"{uri}: no fixed block of {path} serves it")


@pytest.mark.skipif(not NAMES, reason="../shared/realworld/runnable is not beside the clone")
@pytest.mark.parametrize("name", NAMES)
def test_fix_realworld_config(
    name: str,
    tmp_path: Path,
    backend: ScriptedServer,
    tls_files: TlsFiles,
    nginx_for: list[Nginx],
    record_property: Callable[[str, object], None],
) -> None:
    binary = require_nginx()
    case, server = _start(binary, name, tmp_path, backend.port, tls_files, nginx_for)
    redirected: dict[tuple[str, str], Answer] = {}
    hosts_before = {uri: host_for(case, uri, case.plain_port) for uri in case.uris}
    if "plain" in case.probes:
        for uri in case.uris:
            answer = request("plain", case.plain_port, hosts_before[uri], uri, tmp_path)
            if answer.status in REDIRECTS:
                redirected[("plain", uri)] = answer
    original = file_bytes(case.root)

    outcome = _fix(case, write=True)
    if outcome.plan.changed:
        assert outcome.written is not None and outcome.written.validation.status == "passed"
    fixed_path = outcome.path
    after = file_bytes(case.root)
    changed = {name for name in after if after[name] != original.get(name)}
    relative = str(fixed_path.relative_to(case.root))
    assert changed <= {relative}, changed
    _assert_only_blocks_changed(
        original[relative].decode(errors="surrogateescape"),
        after[relative].decode(errors="surrogateescape"),
        outcome,
    )

    again = _fix(case, write=True)
    assert not again.plan.changed and again.written is None, again.diff
    assert file_bytes(case.root) == after

    check = run_check(
        load_config([str(case.main)]),
        CheckOptions(uris=case.uris, backend_port=case.backend_port, offline=True),
    )
    errors = [f for f in check.findings if f.severity is Severity.error]
    assert errors == [] and outcome.errors_after in (0, None), [f.message for f in errors]

    serving = {c.line_after for c in again.plan.changes if c.line_after}
    targets = {uri: _host_and_ports(case, uri, fixed_path, serving) for uri in case.uris}
    _mark(fixed_path, serving)
    server.reload()

    jobs = []
    for uri in case.uris:
        host, ports = targets[uri]
        for kind in case.probes:
            if case.port(kind) in ports or (kind, uri) in redirected:
                hostname = hosts_before[uri] if (kind, uri) in redirected else host
                jobs.append((kind, uri, hostname))
    for uri in case.uris:  # every client kind the config serves is measured
        measured = {kind for kind, job_uri, _host in jobs if job_uri == uri}
        assert measured == set(case.probes), (uri, measured, targets[uri])
    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(
            lambda job: (job, request(job[0], case.port(job[0]), job[2], job[1], tmp_path)),
            jobs,
        ))  # fmt: skip
    record_property("actions", " ".join(sorted(c.action for c in outcome.plan.changes)))
    record_property("redirects_kept", len(redirected))
    record_property(
        "streams", " ".join(sorted(f"{k}" for (k, u, _h) in jobs if (k, u) not in redirected))
    )
    for (kind, uri, _host), answer in answers:
        before = redirected.get((kind, uri))
        if before is not None:
            assert answer.status == before.status, answer.describe()
            assert answer.headers.get("location") == before.headers.get("location")
            continue
        assert answer.status == 200, f"{uri}: {answer.describe()}"
        assert MARKER.lower() in answer.headers, f"{uri}: not served by the fixed block"
        assert len(answer.arrivals) == TOKENS, f"{uri}: {answer.describe()}"
        assert answer.spread >= MIN_SPREAD_S, f"{uri}: held: {answer.describe()}"
        if kind == "h2":
            assert answer.protocol == "HTTP/2", answer.describe()
