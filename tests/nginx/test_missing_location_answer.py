"""missing-location says what nginx really answers: a server-level `return` (measured on the
real-world corpus: a plain server's redirect to https), else a 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.nginx.check import CheckOptions, run_check
from versectl.nginx.load import load_config

REDIRECT = "server {\n    listen 80;\n    return 301 https://$host$request_uri;\n}\n"
STATIC = "server {\n    listen 80;\n    location / { root /srv; }\n}\n"
CATCH_NONE = "server {\n    listen 80;\n    location = /health { return 200; }\n}\n"


@pytest.mark.parametrize(
    ("site", "answer"),
    [
        (REDIRECT, "(`return 301 https://$host$request_uri;`)"),
        (CATCH_NONE, "(404)"),
        (REDIRECT + CATCH_NONE.replace("80", "8080"), "(404)"),
    ],
)
def test_missing_location_names_the_answer(site: str, answer: str, tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text(site)
    result = run_check(load_config([str(path)]), CheckOptions(uris=("/api/chat",), offline=True))
    messages = [f.message for f in result.findings if f.rule == "missing-location"]
    assert messages == [
        f"no location matches /api/chat in any server: nginx answers it itself {answer}"
    ]


def test_a_static_catch_all_is_not_missing(tmp_path: Path) -> None:
    path = tmp_path / "site.conf"
    path.write_text(STATIC)
    result = run_check(load_config([str(path)]), CheckOptions(uris=("/api/chat",), offline=True))
    assert "missing-location" not in {f.rule for f in result.findings}
