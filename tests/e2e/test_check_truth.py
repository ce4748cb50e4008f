"""Ground truth for `check nginx`: every row of tests/nginx/truth_rows.py runs through a real
nginx with several backends, over plain HTTP/1.1, HTTP/1.1 over TLS and HTTP/2 over TLS, with
curl-like clients and a real Chromium; per transport T the check's findings whose `clients`
include T must agree with what the clients measured over T:

- no error finding for T         -> every backend x client over T streams
- a held/partial stream over T   -> some buffering-family error for T
- a buffering-family error for T -> some stream over T is held or partial
- a timeout-family error for T  <-> some stream over T is cut mid-body
- a cache-family error for T    <-> some later request over T is answered from the cache

The families are the rules' own (versectl/nginx/rules/family.py): proxy-cache is not a
buffering rule, since its row streams over HTTP/1.1 and h2 and is answered from the cache.

The measured matrix is written to versectl/nginx/TRUTH_MATRIX.md when VERSECTL_WRITE_TRUTH=1,
and a test fails when the committed file's verdict cells differ from this run's.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.nginx.streaming import read_stream
from tests.nginx.truth import (
    BROWSER,
    BROWSER_BACKENDS,
    CLIENTS,
    SCRIPTED,
    VERSE_TOKEN_MS,
    Row,
    RowResult,
    Setup,
    VerseBackend,
    run_rows,
)
from tests.nginx.truth_rows import HTTP2_DIRECTIVE_SINCE, ROWS
from tests.support.browser import Browser, require_chromium
from tests.support.nginx import require_nginx
from tests.support.tls import TRANSPORTS, TlsFiles
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import load_config
from versectl.nginx.rules import Family, rules_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

BUFFERING_FAMILY = rules_in(Family.buffering)
TIMEOUT_FAMILY = rules_in(Family.timeout)
CACHE_FAMILY = rules_in(Family.cache)
MATRIX_FILE = Path(__file__).parents[2] / "versectl" / "nginx" / "TRUTH_MATRIX.md"
Checked = dict[str, tuple[RowResult, list[Finding]]]


def _nginx_version() -> tuple[int, ...]:
    result = subprocess.run([require_nginx(), "-v"], capture_output=True, text=True, check=False)
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr)
    return tuple(int(part) for part in found.groups()) if found else (0, 0, 0)


def _skip_reason(row: Row) -> str | None:
    if row.http2_directive and _nginx_version() < HTTP2_DIRECTIVE_SINCE:
        version = ".".join(map(str, _nginx_version()))
        return f"nginx {version} has no `http2 on;` (1.25.1+): only `listen ... http2`"
    return None


def rules_for(findings: list[Finding], transport: str) -> list[str]:
    """The rules with an error finding for `transport`, then `~rule` for warnings."""
    mine = [f for f in findings if transport in f.clients]
    errors = sorted({f.rule for f in mine if f.severity == Severity.error})
    warnings = sorted({f"~{f.rule}" for f in mine if f.severity == Severity.warning})
    return errors + warnings


@pytest.fixture(scope="module")
def verse() -> Iterator[VerseBackend | None]:
    """The real verse_backend (simulated model, fast cadence) when its test support exists."""
    try:
        from tests.support.backend_server import running_backend
    except ImportError:
        yield None
        return
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_backend(Path(tmp), {"VERSE_SIM_TOKEN_MS": str(VERSE_TOKEN_MS)}) as url,
    ):
        backend = VerseBackend(url)
        # the first answer of a fresh process is slow (imports, database): not a row's business
        read_stream(f"{url}/api/chat/message", gzip=False, cookie=backend.login())
        yield backend


def _check(site: Path, heartbeat: float) -> list[Finding]:
    port = int(site.read_text().split("proxy_pass http://127.0.0.1:", 1)[1].split(";")[0])
    options = CheckOptions(backend_port=port, heartbeat=heartbeat, offline=True)
    return list(run_check(load_config([str(site)]), options).findings)


@pytest.fixture(scope="module")
def measured(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    verse: VerseBackend | None,
    browsers: tuple[Browser, ...],
    tls_files: TlsFiles,
) -> Checked:
    """The selected rows (all when only the matrix tests run), a few rows at a time (the
    streams only wait on timers), each with `check nginx`'s findings on its site file."""
    require_nginx()
    wanted = {
        item.callspec.params["row"].name
        for item in request.session.items
        if hasattr(item, "callspec") and "row" in item.callspec.params
    }
    rows = [r for r in ROWS if (not wanted or r.name in wanted) and _skip_reason(r) is None]
    results = run_rows(rows, tmp_path_factory.mktemp("truth"), Setup(tls_files, verse, browsers))
    return {
        name: (result, _check(result.site, result.row.heartbeat))
        for name, result in results.items()
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_check_truth_row(row: Row, transport: str, measured: Checked) -> None:
    reason = _skip_reason(row)
    if reason is not None:
        pytest.skip(reason)
    result, findings = measured[row.name]
    verdict = rules_for(findings, transport)
    errors = {rule for rule in verdict if not rule.startswith("~")}
    seen = result.verdicts(transport)
    table = "\n".join(
        f"  {o.backend}/{o.client}: {o.verdict} ({o.reads} reads) {o.detail}"
        for o in result.outcomes
        if o.transport == transport
    )
    context = f"over {transport} check says {verdict or 'nothing'}; measured:\n{table}"
    assert "error" not in seen, context
    if not errors:
        assert seen == {"streams"}, context
    if errors & BUFFERING_FAMILY:
        assert seen & {"held", "partial"}, context
    if seen & {"held", "partial"}:
        assert errors & BUFFERING_FAMILY, context
    assert bool(errors & TIMEOUT_FAMILY) == ("cut" in seen), context
    assert bool(errors & CACHE_FAMILY) == ("cached" in seen), context


def test_truth_browser(browsers: tuple[Browser, ...]) -> None:
    """The browser columns ran (a missing chromium fails in CI, skips elsewhere)."""
    require_chromium()
    assert [b.http2 for b in browsers] == [True, False]


def _skipped_rows() -> dict[str, str]:
    return {row.name: reason for row in ROWS if (reason := _skip_reason(row)) is not None}


def test_check_truth_matrix_written(measured: Checked) -> None:
    """Render the rows measured in this run; write them when VERSECTL_WRITE_TRUTH=1."""
    if len(measured) + len(_skipped_rows()) < len(ROWS):
        pytest.skip("not every row ran in this session")
    text = render_matrix(measured, _skipped_rows())
    if os.environ.get("VERSECTL_WRITE_TRUTH") == "1":
        MATRIX_FILE.write_text(text)


def test_check_truth_matrix_up_to_date(measured: Checked) -> None:
    """The committed matrix's verdict cells are what this run measured (the `check nginx`
    column is not compared: it follows the check, the cells follow nginx)."""
    text = render_matrix(measured, _skipped_rows())
    now = matrix_cells(text)
    committed = matrix_cells(MATRIX_FILE.read_text())
    stale = [
        f"{key[0]} / {key[1]} / {column}: committed {committed.get(key, {}).get(column)!r}, "
        f"measured {cell!r}"
        for key, cells in now.items()
        for column, cell in cells.items()
        if committed.get(key, {}).get(column) != cell and cell != "-"
    ]
    assert not stale, (
        "versectl/nginx/TRUTH_MATRIX.md differs from what nginx did in this run; regenerate it "
        "with VERSECTL_WRITE_TRUTH=1 pytest tests/e2e/test_check_truth.py:\n" + "\n".join(stale)
    )


TRANSPORT_TITLES = {
    "http1.1": "Plain HTTP/1.1 (`http1.1`: curl, SDKs and browsers on http://)",
    "http1.1+tls": "HTTP/1.1 over TLS (`http1.1+tls`: SDKs, curl --http1.1, browsers without HTTP/2)",
    "h2": "HTTP/2 over TLS (`h2`: browsers, curl --http2)",
}
VERDICT_ORDER = ("streams", "partial", "held", "cut", "cached", "error")
HEAD = "| /api location has | `check nginx` |"


def _columns(transport: str) -> list[tuple[str, str]]:
    columns = [(kind, client) for kind in (*SCRIPTED, "verse_backend") for client in CLIENTS]
    if transport != "http1.1":
        columns += [(kind, BROWSER) for kind in BROWSER_BACKENDS]
    return columns


def _cell(result: RowResult, transport: str, backend: str, client: str) -> str:
    found = {
        o.verdict
        for o in result.outcomes
        if (o.transport, o.backend, o.client) == (transport, backend, client)
    }
    return ", ".join(v for v in VERDICT_ORDER if v in found) or "-"


def _label(row: Row) -> str:
    return f"{row.name} ({row.note})" if row.note else row.name


def _summary(result: RowResult, transport: str) -> str:
    found = result.verdicts(transport)
    return ", ".join(v for v in VERDICT_ORDER if v in found) or "-"


def render_matrix(
    measured: Checked,
    skipped: dict[str, str],
    rules: Callable[[list[Finding], str], list[str]] = rules_for,
) -> str:
    """The matrix as markdown: which rows change with the transport, then one table per
    transport (verdict cells), then the rows this nginx could not run."""
    rows = [r for r in ROWS if r.name in measured]
    lines = [
        "# Ground truth: what nginx really does to an SSE chat stream, per transport",
        "",
        f"Generated by tests/e2e/test_check_truth.py on nginx "
        f"{'.'.join(map(str, _nginx_version()))} (`VERSECTL_WRITE_TRUTH=1 pytest "
        "tests/e2e/test_check_truth.py`; a test fails when the verdict cells below differ "
        "from a run's). Every row is one nginx site with three listeners: plain, `ssl`, and "
        "`ssl http2`. Each cell: what a client measured over a real socket through a real "
        "nginx, 20 events 40 ms apart unless the row says otherwise (verse_backend: its "
        "simulated model, 15 ms per token; without its send times its cells are held - all within "
        "0.1 s - or streams). Backends: *conforming* answers HTTP/1.0 "
        "close-delimited and HTTP/1.1 chunked, sends Cache-Control: no-cache, no "
        "X-Accel-Buffering; *bare* the same without Cache-Control; *uvicorn-like* always "
        "chunked, with X-Accel-Buffering: no. Clients: *identity* (curl-like, "
        "Accept-Encoding: identity) and *gzip* (Accept-Encoding: gzip) with httpx (HTTP/2: "
        "one read per DATA frame); *browser*: Debian's Chromium, headless, reading the stream "
        "with fetch + ReadableStream from a page of the same nginx, with HTTP/2 (`h2`) or with "
        "--disable-http2 (`http1.1+tls`; both load the `ssl http2` port, the protocol is "
        "checked with nextHopProtocol). `check nginx` column: rules with an error finding for "
        "that transport; `~rule` = warning.",
        "",
        "streams = events arrive as sent; held = nothing before the backend's last 10 %; "
        "partial = in bursts (fewer than half of the events reached the client within 0.5 s); cut = "
        "connection closed mid-body; cached = a later request answered from the cache with an "
        "old reply.",
        "",
        "## Rows whose verdict depends on the transport",
        "",
        "| /api location has | " + " | ".join(f"`{t}`" for t in TRANSPORTS) + " |",
        "|---|" + "---|" * len(TRANSPORTS),
    ]
    for row in rows:
        result = measured[row.name][0]
        summaries = [_summary(result, t) for t in TRANSPORTS]
        if len(set(summaries)) > 1:
            lines.append(f"| {_label(row)} | " + " | ".join(summaries) + " |")
    for transport in TRANSPORTS:
        columns = _columns(transport)
        lines += [
            "",
            f"## {TRANSPORT_TITLES[transport]}",
            "",
            HEAD + "".join(f" {b}<br>{c} |" for b, c in columns),
            "|" + "---|" * (len(columns) + 2),
        ]
        for row in rows:
            result, findings = measured[row.name]
            check = ", ".join(rules(findings, transport)) or "ok"
            cells = [_cell(result, transport, b, c) for b, c in columns]
            lines.append(f"| {_label(row)} | {check} | " + " | ".join(cells) + " |")
    if skipped:
        lines += ["", "## Rows not measured on this nginx", ""]
        lines += [f"- {name}: {reason}" for name, reason in skipped.items()]
    return "\n".join(lines) + "\n"


def matrix_cells(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """(transport, row label) -> {column: verdict cell} from a rendered matrix (the `check
    nginx` column left out)."""
    titles = {f"## {title}": transport for transport, title in TRANSPORT_TITLES.items()}
    cells: dict[tuple[str, str], dict[str, str]] = {}
    transport: str | None = None
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            transport = titles.get(line)
            header = []
        elif transport is not None and line.startswith(HEAD):
            header = [c.strip() for c in line.strip("|").split("|")][2:]
        elif transport is not None and header and line.startswith("| "):
            parts = [c.strip() for c in line.strip("|").split("|")]
            cells[(transport, parts[0])] = dict(zip(header, parts[2:], strict=False))
    return cells
