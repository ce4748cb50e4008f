"""Ground truth for `check nginx`: every row of tests/nginx/truth_rows.py runs through a real
nginx with several backends and clients, and the check's verdict on the same site file must
agree with what the clients measured:

- no error finding          -> every backend x client streams (no hold, cut or cached answer)
- a buffering-family error  -> at least one backend x client is held; and a held stream
                               never goes without such an error
- read-timeout error        <-> some stream is cut mid-body
- proxy-cache error         <-> some later request is answered from the cache

The measured matrix is written to versectl/nginx/TRUTH_MATRIX.md when VERSECTL_WRITE_TRUTH=1.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nginx.streaming import read_stream
from tests.nginx.truth import Row, RowResult, VerseBackend, run_rows
from tests.nginx.truth_rows import ROWS
from tests.support.nginx import require_nginx
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Severity
from versectl.nginx.load import load_config

pytestmark = pytest.mark.e2e

BUFFERING_FAMILY = {
    "proxy-buffering",
    "gzip-event-stream",
    "ignore-accel-buffering",
    "http-version",
}
MATRIX_FILE = Path(__file__).parents[2] / "versectl" / "nginx" / "TRUTH_MATRIX.md"
_RESULTS: dict[str, tuple[RowResult, list[str]]] = {}


def _http2_available() -> bool:
    result = subprocess.run([require_nginx(), "-V"], capture_output=True, text=True, check=False)
    return "http_v2_module" in result.stderr


@pytest.fixture(scope="module")
def verse() -> Iterator[VerseBackend | None]:
    """The real verse_backend (simulated model, fast cadence) when its test support exists."""
    try:
        from tests.support.backend_server import running_backend
    except ImportError:
        yield None
        return
    import tempfile

    with (
        tempfile.TemporaryDirectory() as tmp,
        running_backend(Path(tmp), {"VERSE_SIM_TOKEN_MS": "8"}) as url,
    ):
        backend = VerseBackend(url)
        # the first answer of a fresh process is slow (imports, database): not a row's business
        read_stream(f"{url}/api/chat/message", gzip=False, cookie=backend.login())
        yield backend


def _check(site: Path, port: int, heartbeat: float) -> list[str]:
    """`check nginx` on the site file: the rules with error findings, plus `~rule` warnings."""
    options = CheckOptions(backend_port=port, heartbeat=heartbeat, offline=True)
    result = run_check(load_config([str(site)]), options)
    errors = sorted({f.rule for f in result.findings if f.severity == Severity.error})
    warnings = sorted({f"~{f.rule}" for f in result.findings if f.severity == Severity.warning})
    return errors + warnings


@pytest.fixture(scope="module")
def measured(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    verse: VerseBackend | None,
) -> dict[str, RowResult]:
    """Every selected row, measured several rows at a time (the streams only wait on timers)."""
    require_nginx()
    wanted = {
        item.callspec.params["row"].name
        for item in request.session.items
        if hasattr(item, "callspec") and "row" in item.callspec.params
    }
    rows = [r for r in ROWS if r.name in wanted and (not r.h2 or _http2_available())]
    return run_rows(rows, tmp_path_factory.mktemp("truth"), verse)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_check_truth_row(row: Row, measured: dict[str, RowResult]) -> None:
    if row.name not in measured:
        pytest.skip("this nginx has no http_v2_module")  # the only rows left out
    result = measured[row.name]
    site = result.site
    port = int(site.read_text().split("proxy_pass http://127.0.0.1:", 1)[1].split(";")[0])
    verdict = _check(site, port, row.heartbeat)
    _RESULTS[row.name] = (result, verdict)
    errors = {rule for rule in verdict if not rule.startswith("~")}
    seen = result.verdicts()
    table = "\n".join(
        f"  {o.backend}/{o.client}: {o.verdict} ({o.reads} reads) {o.detail}"
        for o in result.outcomes
    )
    context = f"check says {verdict or 'nothing'}; measured:\n{table}"
    assert "error" not in seen, context
    if not errors:
        assert seen == {"streams"}, context
    if errors & BUFFERING_FAMILY:
        assert seen & {"held", "partial"}, context
    if seen & {"held", "partial"}:
        assert errors & BUFFERING_FAMILY, context
    assert ("read-timeout" in errors) == ("cut" in seen), context
    assert ("proxy-cache" in errors) == ("cached" in seen), context


def test_check_truth_matrix_written() -> None:
    """Render the rows measured in this run; write them when VERSECTL_WRITE_TRUTH=1."""
    if len(_RESULTS) < len(ROWS):
        pytest.skip("not every row ran in this session")
    text = render_matrix()
    assert text.count("\n|") >= len(ROWS)
    if os.environ.get("VERSECTL_WRITE_TRUTH") == "1":
        MATRIX_FILE.write_text(text)


def render_matrix() -> str:
    clients: list[tuple[str, str]] = []
    for result, _verdict in _RESULTS.values():
        for outcome in result.outcomes:
            key = (outcome.backend, outcome.client)
            if key not in clients:
                clients.append(key)
    head = (
        "| /api location has | `check nginx` | "
        + " | ".join(f"{b}<br>{c}" for b, c in clients)
        + " |"
    )
    lines = [
        "# Ground truth: what nginx 1.22 really does to an SSE chat stream",
        "",
        "Generated by tests/e2e/test_check_truth.py (`VERSECTL_WRITE_TRUTH=1 pytest "
        "tests/e2e/test_check_truth.py`). Each cell: what a client measured over a real socket "
        "through a real nginx, 20 events 40 ms apart (verse_backend: its simulated model). "
        "Backends: *conforming* answers HTTP/1.0 close-delimited and HTTP/1.1 chunked, sends "
        "Cache-Control: no-cache, no X-Accel-Buffering; *bare* the same without Cache-Control; "
        "*uvicorn-like* always chunked, with X-Accel-Buffering: no. Clients: *identity* (curl-like)"
        " and *gzip* (Accept-Encoding: gzip, like every browser). `check nginx` column: rules "
        "with an error finding; `~rule` = warning.",
        "",
        "streams = events arrive as sent; held = nothing before the end; cut = connection "
        "closed mid-body; cached = a later request answered from the cache with an old reply.",
        "",
        head,
        "|" + "---|" * (len(clients) + 2),
    ]
    for name, (result, verdict) in _RESULTS.items():
        cells = []
        for backend, client in clients:
            found = [
                o.verdict for o in result.outcomes if (o.backend, o.client) == (backend, client)
            ]
            cells.append(", ".join(dict.fromkeys(found)) or "-")
        check = ", ".join(verdict) or "ok"
        note = f" ({result.row.note})" if result.row.note else ""
        lines.append(f"| {name}{note} | {check} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
