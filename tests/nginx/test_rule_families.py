"""Rule families: every rule has one, doctor, the advice and the truth test pick rules by it,
and the names they print are the catalog's (a renamed rule fails here)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.probe.records import record_from_reads, steady
from versectl import doctor
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Finding, Severity
from versectl.nginx.load import load_config
from versectl.nginx.rules import RULES, Family, family_of, rule_by_name, rules_in
from versectl.probe.analysis import analyze
from versectl.probe.protocol import HttpVersion
from versectl.probe.record import ProbeFailure
from versectl.probe.runner import ProbeOutcome, TargetProbe
from versectl.report.check_json import check_json

CONTRACT_RULES = [
    "port-mismatch",
    "backend-unreachable",
    "missing-location",
    "no-proxy-pass",
    "proxy-buffering",
    "ignore-accel-buffering",
    "gzip-event-stream",
    "proxy-cache",
    "read-timeout",
    "http-version",
    "connection-header",
    "accel-request-header",
    "header-inheritance",
    "stale-reload",
]
"""CONTRACT.md's rule names: scripts rely on them, so a rename must fail a test."""
ROOT = Path(__file__).parents[2]
NAME_IN_TEXT = re.compile(r"\b(?:rule |rules? \(?)?([a-z]+(?:-[a-z0-9]+)+)\b")


def test_families_every_rule_has_one() -> None:
    for rule in RULES:
        assert isinstance(rule.family, Family), rule.name
    assert {rule.family for rule in RULES} == set(Family)


def test_families_contract_names_are_in_the_catalog() -> None:
    for name in CONTRACT_RULES:
        assert rule_by_name(name) is not None, f"{name} (CONTRACT.md) is not in the catalog"


def test_families_proxy_cache_is_a_cache_rule_not_a_buffering_rule() -> None:
    """TRUTH_MATRIX.md: "cache for POST" streams over HTTP/1.1 and h2 and is answered from the
    cache: the finding predicts an old reply, not a held stream."""
    matrix = (ROOT / "versectl" / "nginx" / "TRUTH_MATRIX.md").read_text()
    assert (
        "| cache for POST | streams, cached | streams, held, cached | streams, cached |" in matrix
    )
    assert family_of("proxy-cache") is Family.cache
    assert "proxy-cache" not in rules_in(Family.buffering)
    assert family_of("read-timeout") is Family.timeout


def test_families_doctor_reads_a_cache_error_as_a_cache_not_as_buffering() -> None:
    """A stream that streams while a cache answers POSTs: doctor says the cache, and does not
    claim the config would hold the stream."""
    stream = analyze(record_from_reads(steady(40, 25.0)))
    probe = ProbeOutcome([TargetProbe(HttpVersion.http1_1, "http1.1", [stream], None)], [stream])
    cache = Finding("proxy-cache", Severity.error, "site.conf", 6, "cached")
    diagnosis = doctor.diagnose(SimpleNamespace(findings=(cache,)), None, probe, None)  # type: ignore[arg-type]
    advice = " | ".join(diagnosis.advice)
    assert "a later question can get an earlier reply: proxy-cache (site.conf:6)" in advice
    assert "would hold" not in advice and "other errors" not in advice
    assert diagnosis.exit_code == 1


def test_families_of_the_contract_rules() -> None:
    """The decision, in one table: what each rule's finding predicts (family.py)."""
    assert {name: str(family_of(name)) for name in CONTRACT_RULES} == {
        "port-mismatch": "routing",
        "backend-unreachable": "routing",
        "missing-location": "routing",
        "no-proxy-pass": "routing",
        "header-inheritance": "routing",
        "proxy-buffering": "buffering",
        "ignore-accel-buffering": "buffering",
        "gzip-event-stream": "buffering",
        "http-version": "buffering",
        "connection-header": "buffering",
        "accel-request-header": "buffering",
        "proxy-cache": "cache",
        "read-timeout": "timeout",
        "stale-reload": "machine",
    }


def _string_literals(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_families_no_rule_name_written_by_hand_in_advice() -> None:
    """Advice names rules through the catalog (`module.name`), never as a literal."""
    names = {rule.name for rule in RULES}
    for source in ("versectl/doctor.py", "versectl/probe/advice.py"):
        for text in _string_literals(ROOT / source):
            if text.count("\n") > 2:
                continue  # a docstring
            written = set(NAME_IN_TEXT.findall(text)) & names
            assert not written, f"{source}: {written} written by hand in {text!r}"


def test_families_advice_names_catalog_rules() -> None:
    held = record_from_reads([(1000.0, 20)], headers_ms=990.0)
    held.headers["content-encoding"] = "gzip"
    lines = " ".join(analyze(held).advice)
    assert "rule gzip-event-stream" in lines and "rule proxy-buffering" in lines
    failed = record_from_reads([], done=False)
    failed.status = 502
    failed.error = ProbeFailure("http", "502")
    assert "rule port-mismatch" in " ".join(analyze(failed).advice)
    for name in re.findall(r"rule ([a-z-]+)", lines):
        assert rule_by_name(name) is not None


def test_families_in_json_findings_and_the_catalog(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server { listen 80; location /api { proxy_pass http://127.0.0.1:7776; } }\n")
    result = run_check(load_config([str(site)]), CheckOptions(offline=True))
    findings = check_json(result)["findings"]
    assert isinstance(findings, list) and findings
    for found in findings:
        assert found["family"] == str(family_of(found["rule"]))
    assert {"rule": "proxy-buffering", "family": "buffering"}.items() <= findings[0].items()
    listed = subprocess.run(
        [sys.executable, "-m", "versectl", "rules", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    catalog = json.loads(listed.stdout)["rules"]
    assert [(r["name"], r["family"]) for r in catalog] == [(r.name, str(r.family)) for r in RULES]
