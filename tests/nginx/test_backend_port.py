"""Where the backend's port comes from: flag, compose file (short and long syntax), default."""

from __future__ import annotations

from pathlib import Path

import pytest

from versectl.errors import InputError
from versectl.nginx.backend_port import resolve_backend_port


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ('["127.0.0.1:7776:7776"]', 7776),
        ('["8001:7776"]', 8001),
        ('["7777"]', 7777),
        ('["7780:7776/tcp"]', 7780),
        ("\n      - target: 7776\n        published: 9000\n        host_ip: 127.0.0.1", 9000),
    ],
)
def test_backend_port_from_compose(tmp_path: Path, ports: str, expected: int) -> None:
    compose = tmp_path / "docker-compose.prod.yml"
    compose.write_text(
        'services:\n  frontend:\n    ports: ["80:80"]\n'
        f"  backend:\n    image: verse\n    ports: {ports}\n"
    )
    found = resolve_backend_port(None, str(compose))
    assert (found.port, found.source) == (expected, "compose")
    assert "backend" in found.detail
    assert 80 in found.candidates and 7776 in found.candidates


def test_backend_port_flag_wins(tmp_path: Path) -> None:
    compose = tmp_path / "c.yml"
    compose.write_text('services:\n  backend:\n    ports: ["7776:7776"]\n')
    assert resolve_backend_port(8000, str(compose)).source == "flag"


def test_backend_port_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./docker-compose.prod.yml here
    found = resolve_backend_port(None, None)
    assert (found.port, found.source) == (7776, "default")


def test_backend_port_bad_compose_is_input_error(tmp_path: Path) -> None:
    compose = tmp_path / "c.yml"
    compose.write_text("services: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        resolve_backend_port(None, str(compose))
    with pytest.raises(InputError, match="cannot read"):
        resolve_backend_port(None, str(tmp_path / "missing.yml"))
