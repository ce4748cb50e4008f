"""Every rule fires on its cases (tests/nginx/cases/<rule>/*.conf) and stays silent on their
`_ok` twins; every rule has both kinds and a complete explain text.

A case may start with `# check: key=value ...` lines: backend_port, heartbeat, server_name,
uri, app (an --app profile: its WebSocket paths); `online` (live probes on, with a fake network where only `listening=PORT,...` accept)
and `running=before|after|none` (a fake running nginx that loaded its config before or after
the file was written, or none). Every firing case pins the rule's findings, one
`# expect: line=N severity=S clients=K,K` line each (`file=NAME` when not the case itself):
the findings must be exactly those, so a finding that moves to another line fails (issue 11).
An `_ok` twin pins nothing (the rule is silent there) or only `severity=info` findings (a
harmless form the rule names, such as a redirect to https), again exactly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from versectl.apps.profile import get_profile
from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.finding import Finding
from versectl.nginx.load import LoadedConfig, load_config
from versectl.nginx.rules import EXPLAIN_SECTIONS, RULES, explain_sections

CASES = Path(__file__).parent / "cases"


def _cases(ok: bool) -> list[Path]:
    return sorted(p for p in CASES.glob("*/*.conf") if p.stem.endswith("_ok") == ok)


def _options(path: Path) -> CheckOptions:
    settings: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("# check:"):
            for item in line.removeprefix("# check:").split():
                key, _, value = item.partition("=")
                settings[key] = value
    listening = {int(p) for p in settings.get("listening", "").split(",") if p}
    running = settings.get("running", "none")

    def fake_running(config: LoadedConfig) -> tuple[int, float] | None:
        written = max(Path(f).stat().st_mtime for f in config.files)
        return {
            "before": (4242, written - 60.0),
            "after": (4242, written + 60.0),
        }.get(running)

    return CheckOptions(
        uris=tuple(settings["uri"].split(",")) if "uri" in settings else CheckOptions.uris,
        server_name=settings.get("server_name"),
        backend_port=int(settings.get("backend_port", "7776")),
        heartbeat=float(settings.get("heartbeat", "15")),
        offline="online" not in settings,
        connect=lambda _host, port: port in listening,
        running_nginx=fake_running,
        app=get_profile(settings["app"]) if "app" in settings else None,
    )


Pin = tuple[str, int, str, str]
"""(file name, line, severity, clients) of one finding."""


def _expected(path: Path) -> list[Pin]:
    pins: list[Pin] = []
    for line in path.read_text().splitlines():
        if line.startswith("# expect:"):
            keys = dict(item.partition("=")[::2] for item in line.removeprefix("# expect:").split())
            where = keys.get("file", path.name)
            pins.append((where, int(keys["line"]), keys["severity"], keys["clients"]))
    return sorted(pins)


def _pins(findings: list[Finding]) -> list[Pin]:
    return sorted(
        (Path(f.file).name, f.line, f.severity.value, ",".join(f.clients)) for f in findings
    )


def _findings(path: Path) -> list[Finding]:
    return list(run_check(load_config([str(path)]), _options(path)).findings)


@pytest.mark.parametrize("case", _cases(ok=False), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rule_fires_on_case(case: Path) -> None:
    rule = case.parent.name
    found = [f for f in _findings(case) if f.rule == rule]
    assert found, f"{rule} did not fire on {case.name}"
    for finding in found:
        assert finding.file and finding.line > 0
        assert finding.message
    assert _pins(found) == _expected(case)


def test_rule_cases_all_pin_their_findings() -> None:
    firing = _cases(ok=False)
    assert len(firing) >= 35
    assert all(_expected(p) for p in firing), [p.name for p in firing if not _expected(p)]
    assert all(sev == "info" for p in _cases(ok=True) for _f, _l, sev, _c in _expected(p))


def test_rule_case_pin_fails_when_a_finding_moves(tmp_path: Path) -> None:
    # the same case with one blank line above its server: the pin must no longer hold
    case = CASES / "proxy-buffering" / "defaults.conf"
    moved = tmp_path / case.name
    moved.write_text(case.read_text().replace("server {", "\nserver {", 1))
    found = [f for f in _findings(moved) if f.rule == "proxy-buffering"]
    assert found and _pins(found) != _expected(moved)
    assert [line for _file, line, _sev, _clients in _pins(found)] == [5]


@pytest.mark.parametrize("case", _cases(ok=True), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rule_silent_on_ok_twin(case: Path) -> None:
    rule = case.parent.name
    found = [f for f in _findings(case) if f.rule == rule]
    # silent, or only the info findings the twin pins (a harmless form the rule names)
    assert _pins(found) == _expected(case), [f.message for f in found]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_has_cases_both_ways(rule: object) -> None:
    name = rule.name  # type: ignore[attr-defined]
    folder = CASES / name
    assert any(p for p in folder.glob("*.conf") if not p.stem.endswith("_ok")), name
    assert any(folder.glob("*_ok.conf")), name


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_explain_has_every_section(rule: object) -> None:
    sections = explain_sections(rule)  # type: ignore[arg-type]
    assert tuple(sections) == EXPLAIN_SECTIONS
    assert all(len(text) > 40 for text in sections.values()), sections


def test_rule_case_folders_are_all_rules() -> None:
    assert {p.name for p in CASES.iterdir() if p.is_dir()} == {r.name for r in RULES}


def test_rule_names_are_unique_kebab_case() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(n == n.lower() and " " not in n and "_" not in n for n in names)


def test_rule_stale_reload_fake_clock_is_relative_to_the_files() -> None:
    # guards the fake above: "before" must really be older than the file
    case = CASES / "stale-reload" / "edited_after_load.conf"
    running = _options(case).running_nginx(load_config([str(case)]))
    assert running is not None and running[1] < time.time()
