"""An app under a subpath: check --app judges its URIs under the prefix its config serves it
at (instead of calling them missing), says so, and keeps --uri and root setups as they are."""

from __future__ import annotations

from pathlib import Path

from versectl.apps.profile import get_profile
from versectl.nginx.check import CheckOptions, CheckResult, run_check
from versectl.nginx.load import load_config

SUBPATH = """server {
    listen 80;
    location / { root /srv/www; }
    location /static/ { root /srv; }
    location /chatgpt/ {
        proxy_pass http://127.0.0.1:8080/;
        proxy_buffering off;
    }
}
"""


def _check(tmp_path: Path, text: str, **options: object) -> CheckResult:
    path = tmp_path / "site.conf"
    path.write_text(text)
    app = get_profile("open-webui")
    settings: dict[str, object] = {"offline": True, "app": app, "uris": app.uris, **options}
    return run_check(load_config([str(path)]), CheckOptions(**settings))  # type: ignore[arg-type]


def test_subpath_app_judged_under_its_prefix(tmp_path: Path) -> None:
    result = _check(tmp_path, SUBPATH)
    (location,) = result.locations
    assert location.uris == ("/chatgpt/api/chat/completions", "/chatgpt/ollama/api/chat")
    assert not [f for f in result.findings if f.rule == "missing-location"]
    assert any("served under /chatgpt" in note for note in result.notes)


def test_subpath_explicit_uri_is_kept(tmp_path: Path) -> None:
    result = _check(tmp_path, SUBPATH, uris=("/api/chat/completions",))
    assert [loc.uris for loc in result.locations] == [("/api/chat/completions",)]
    assert not any("served under" in note for note in result.notes)


def test_subpath_root_setup_unchanged(tmp_path: Path) -> None:
    root = SUBPATH.replace("location /chatgpt/ {", "location /api/ {")
    result = _check(tmp_path, root)
    assert result.locations[0].uris == ("/api/chat/completions",)
    assert not any("served under" in note for note in result.notes)
