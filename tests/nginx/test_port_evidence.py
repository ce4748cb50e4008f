"""port-mismatch only on evidence: a flag, a compose file, a profile (--app, or a config that
plainly serves a known app on its port) or the live machine (the port that answers); the bare
7776 default never makes another app's catch-all proxy an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from versectl.apps.profile import get_profile
from versectl.nginx.check import CheckOptions, CheckResult, run_check
from versectl.nginx.load import load_config
from versectl.report.check_json import check_json

REALWORLD = Path(__file__).resolve().parents[3] / "shared" / "realworld" / "configs"


def _check(tmp_path: Path, text: str, **options: object) -> CheckResult:
    path = tmp_path / "site.conf"
    path.write_text(text)
    settings: dict[str, object] = {"offline": True, **options}
    return run_check(load_config([str(path)]), CheckOptions(**settings))  # type: ignore[arg-type]


def _site(match: str, port: int) -> str:
    return f"server {{\n  listen 80;\n  location {match} {{ proxy_pass http://127.0.0.1:{port}; }}\n}}\n"


def _mismatch(result: CheckResult) -> list[str]:
    return [f.severity.value for f in result.findings if f.rule == "port-mismatch"]


@pytest.fixture(autouse=True)
def _no_compose_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the repository's docker-compose.prod.yml is not evidence here


def test_evidence_seed_location_api_stays_an_error(tmp_path: Path) -> None:
    result = _check(tmp_path, _site("/api", 8000))
    assert result.backend.source == "default" and _mismatch(result) == ["error"]


def test_evidence_catch_all_on_bare_default_is_a_warning(tmp_path: Path) -> None:
    result = _check(tmp_path, _site("/", 8000))
    assert _mismatch(result) == ["warning"]


def test_evidence_config_serving_an_app_on_its_port_is_that_app(tmp_path: Path) -> None:
    result = _check(tmp_path, _site("/", 11434), uris=("/api/chat",))
    assert (result.backend.port, result.backend.source, result.backend.app) == (
        11434,
        "profile",
        "ollama",
    )
    assert _mismatch(result) == [] and any("--app ollama" in n for n in result.notes)
    assert check_json(result)["app"] == "ollama"


def test_evidence_live_port_that_answers_is_the_backend(tmp_path: Path) -> None:
    result = _check(
        tmp_path, _site("/api", 9000), offline=False, connect=lambda _h, port: port == 9000
    )
    assert (result.backend.port, result.backend.source) == (9000, "live")
    assert _mismatch(result) == []


def test_evidence_live_default_answering_confirms_the_mismatch(tmp_path: Path) -> None:
    result = _check(
        tmp_path, _site("/", 9000), offline=False, connect=lambda _h, port: port == 7776
    )
    assert (result.backend.port, result.backend.source) == (7776, "live")
    assert _mismatch(result) == ["error"]


@pytest.mark.parametrize(("port", "expected"), [(3000, []), (8080, []), (5000, ["error"])])
def test_evidence_profile_any_usual_port(tmp_path: Path, port: int, expected: list[str]) -> None:
    result = _check(tmp_path, _site("/", port), app=get_profile("open-webui"))
    assert result.backend.source == "profile" and _mismatch(result) == expected


@pytest.mark.parametrize(
    ("name", "app", "port"),
    [
        ("ollama-docs__faq-proxy.conf", "ollama", 11434),
        ("openwebui-docs__optimized-full.conf", "open-webui", 3000),
        ("anythingllm__aws-https-instructions.conf", "anything-llm", 3001),
    ],
)
def test_evidence_realworld_configs_recognised(name: str, app: str, port: int) -> None:
    path = REALWORLD / name
    if not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("../shared/realworld is missing (CI has it)")
        pytest.skip("../shared/realworld is not present")
    result = run_check(load_config([str(path)]), CheckOptions(offline=True))
    assert (result.backend.app, result.backend.port) == (app, port)
    assert _mismatch(result) == []
