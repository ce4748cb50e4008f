"""The plan is verified on the candidate config with check's model before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.errors import FixError
from versectl.fix.candidate import load_candidate, verify_plan
from versectl.fix.plan import BlockChange, FilePlan, FixTarget
from versectl.nginx.load import load_config
from versectl.nginx.model import select_locations

URIS = ("/api/chat/message",)


def _plan(site: Path, candidate: str, line_after: int) -> FilePlan:
    target = FixTarget("insert", 1, URIS)
    change = BlockChange(target, "insert", "/api", line_after=line_after)
    return FilePlan(str(site), site.read_text(), candidate, [change])


def test_candidate_is_read_in_place_of_the_file_on_disk(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n    location / { root /srv; }\n}\n")
    config = load_config([str(site)])
    after = load_candidate(
        config, site, "server {\n    location / { root /srv; }\n    location /api { }\n}\n"
    )
    (match,) = select_locations(after, list(URIS))
    assert match.location is not None and match.location.line == 3
    assert site.read_text().count("location") == 1  # nothing written


def test_candidate_a_block_a_regex_outranks_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n    location ~ ^/api/ { return 404; }\n}\n")
    candidate = (
        "server {\n    location ~ ^/api/ { return 404; }\n"
        "    location /api { proxy_pass http://127.0.0.1:7776; }\n}\n"
    )
    with pytest.raises(FixError, match=r"would still be served by the location at .*:2"):
        verify_plan(load_config([str(site)]), _plan(site, candidate, 3), URIS, None)


def test_candidate_serving_block_passes(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text("server {\n    location / { root /srv; }\n}\n")
    candidate = (
        "server {\n    location / { root /srv; }\n"
        "    location ^~ /api { proxy_pass http://127.0.0.1:7776; }\n}\n"
    )
    verify_plan(load_config([str(site)]), _plan(site, candidate, 3), URIS, None)
