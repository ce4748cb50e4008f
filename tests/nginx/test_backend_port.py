"""Where the backend's port comes from: flag, compose file (the compose spec's short and long\nsyntax, ranges, protocols, interpolation), default; malformed ports are one clear error."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from versectl.errors import InputError
from versectl.nginx.backend_port import compose_ports, resolve_backend_port


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


def _compose(tmp_path: Path, ports_yaml: str) -> Path:
    compose = tmp_path / "docker-compose.prod.yml"
    compose.write_text(f"services:\n  backend:\n    image: verse\n    ports:{ports_yaml}\n")
    return compose


# (the `ports:` value as written in YAML, the host ports it publishes over TCP)
SHORT_AND_LONG = [
    ('\n      - "8000:7776"', [8000]),
    ("\n      - 8000:7776", [8000]),  # unquoted: a string for compose (YAML 1.2), not 1.1's base 60
    ("\n      - 80:30", [80]),  # YAML 1.1 would read the integer 4830
    ('\n      - "127.0.0.1:8000:7776"', [8000]),
    ('\n      - "127.0.0.1::7776"', [7776]),  # no host port: docker picks one
    ('\n      - "[::1]:8001:7776"', [8001]),
    ('\n      - "::1:8002:7776"', [8002]),
    ('\n      - "7776"', [7776]),
    ("\n      - 7776", [7776]),
    ('\n      - "8000-8001:7776-7777"', [8000, 8001]),
    ('\n      - "8000:7776/tcp"', [8000]),
    ('\n      - "8000:7776/udp"', []),
    ('\n      - "8000:7776/udp"\n      - "8003:7776"', [8003]),
    ("\n      - target: 7776\n        published: 9000\n        host_ip: 127.0.0.1", [9000]),
    ('\n      - target: 7776\n        published: "9000-9001"\n        protocol: tcp', [9000, 9001]),
    ("\n      - target: 7776\n        protocol: udp\n        published: 9000", []),
    ("\n      - target: 7776", [7776]),
    (
        "\n      - target: 7776\n        published: 9000\n        mode: host\n        name: web",
        [9000],
    ),
    (" []", []),
]


@pytest.mark.parametrize(("ports", "expected"), SHORT_AND_LONG)
def test_compose_port_syntax(tmp_path: Path, ports: str, expected: list[int]) -> None:
    found = compose_ports(str(_compose(tmp_path, ports)))
    assert [port for _service, port, _raw in found] == expected


def test_compose_short_form_picks_the_host_port(tmp_path: Path) -> None:
    # the case: "8000:7776" is where nginx on the host connects, not 8 or 7776
    found = resolve_backend_port(None, str(_compose(tmp_path, '\n      - "8000:7776"')))
    assert (found.port, found.source) == (8000, "compose")


INTERPOLATED = [
    ({}, "", '"${PORT:-8000}:7776"', 8000),
    ({"PORT": "8100"}, "", '"${PORT:-8000}:7776"', 8100),
    ({"PORT": ""}, "", '"${PORT:-8000}:7776"', 8000),  # `:-` also replaces empty
    ({"PORT": ""}, "", '"${PORT-8000}:7776"', 7776),  # `-` only unset; empty host: random
    ({}, "PORT=8200\n", '"${PORT:-8000}:7776"', 8200),  # .env beside the compose file
    ({"PORT": "8300"}, "PORT=8200\n", '"${PORT:-8000}:7776"', 8300),  # environment wins
    ({}, "# comment\nexport PORT='8400'\n", '"$PORT:7776"', 8400),
    ({}, "", '"${HOST:-127.0.0.1}:${PORT:-8500}:${INNER:-7776}"', 8500),
    ({"PORT": "8600"}, "", '"${PORT:?set PORT}:7776"', 8600),
    ({"ON": "1"}, "", '"${ON:+8700}${OFF:+9999}:7776"', 8700),
]


@pytest.mark.parametrize(("environ", "dotenv", "entry", "expected"), INTERPOLATED)
def test_compose_interpolation(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    dotenv: str,
    entry: str,
    expected: int,
) -> None:
    for name in ("PORT", "HOST", "INNER", "ON", "OFF"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    if dotenv:
        (tmp_path / ".env").write_text(dotenv)
    found = resolve_backend_port(None, str(_compose(tmp_path, f"\n      - {entry}")))
    assert found.port == expected


BAD = [
    (" 7776", "must be a list"),  # a scalar: was a TypeError
    (' "8000:7776"', "must be a list"),  # a string: was read character by character (port 8)
    ("\n      - target: 7776\n        published: 99999", "99999 is not a TCP port"),
    ('\n      - "99999:7776"', "99999 is not a TCP port"),
    ('\n      - "8000:0"', "0 is not a TCP port"),
    ('\n      - "8001-8000:7776"', "ends before it starts"),
    ('\n      - "8000-8002:7776-7777"', "ranges differ"),
    ('\n      - "abc:7776"', "not a port or a range"),
    ('\n      - "8000:7776/quic"', "unknown protocol"),
    ("\n      - published: 8000", "needs `target`"),
    ("\n      - [8000, 7776]", "not a port mapping"),
    ("\n      - true", "not a port mapping"),
    ('\n      - "${NOPE:?define NOPE}:7776"', "required variable NOPE"),
]


@pytest.mark.parametrize(("ports", "message"), BAD)
def test_compose_bad_ports_are_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ports: str, message: str
) -> None:
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        resolve_backend_port(None, str(_compose(tmp_path, ports)))
    assert "service backend" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_compose_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        resolve_backend_port(None, "/dev/zero")
    big = tmp_path / "big.yml"
    big.write_text("x" * (2 * 1024 * 1024))
    with pytest.raises(InputError, match="too large"):
        resolve_backend_port(None, str(big))


def test_compose_scalar_ports_cli_exit_2(tmp_path: Path) -> None:
    compose = tmp_path / "c.yml"
    compose.write_text("services:\n  backend:\n    ports: 7776\n")
    site = tmp_path / "site.conf"
    site.write_text("server { location /api/ { proxy_pass http://127.0.0.1:7776; } }\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "versectl",
            "check",
            "nginx",
            "--offline",
            "--compose",
            str(compose),
            str(site),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "must be a list" in result.stderr


_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(alphabet="0123456789:-/.[]$ {}?+ABCabctcpud", max_size=30),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
)
_entries = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["target", "published", "host_ip", "protocol", "mode", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(ports=_entries)
def test_compose_ports_never_raise_anything_but_input_error(ports: object) -> None:
    import yaml

    text = yaml.safe_dump({"services": {"backend": {"ports": ports}}})
    with tempfile.TemporaryDirectory() as folder:
        compose = Path(folder) / "c.yml"
        compose.write_text(text)
        try:
            found = compose_ports(str(compose))
        except InputError as exc:
            assert "\n" not in str(exc)
            return
    for _service, port, _raw in found:
        assert 0 < port < 65536
