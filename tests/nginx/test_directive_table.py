"""The one directive table: what the model, the rules and fix read from it agrees with nginx."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.nginx import require_nginx
from versectl.fix.directives import normalized
from versectl.nginx.directive import Directive
from versectl.nginx.directive_table import (
    ARRAY_DIRECTIVES,
    DEFAULTS,
    HANDLERS,
    MODULES,
    TABLE,
    module_directive,
    of_kind,
)
from versectl.nginx.model import Effective
from versectl.nginx.rules.conditions import buffering, module_prefix


def test_every_module_has_a_handler_and_its_timeouts() -> None:
    assert list(HANDLERS.values()) == list(MODULES)
    for module in MODULES:
        assert DEFAULTS[f"{module}_read_timeout"] == ("60s",)
        assert TABLE[f"{module}_pass"].module == module


def test_modules_that_never_buffer_have_no_buffering_directive() -> None:
    assert module_directive("proxy", "buffering") == "proxy_buffering"
    assert module_directive("grpc", "buffering") is None
    assert module_directive("memcached", "buffering") is None


def test_array_directives_have_no_single_default_value_but_a_list() -> None:
    assert {"proxy_set_header", "add_header", "proxy_cache_methods"} <= ARRAY_DIRECTIVES
    assert all(TABLE[name].kind == "list" for name in ARRAY_DIRECTIVES)


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_the_model_and_the_rules_know_every_handler(name: str) -> None:
    location = Directive("location", ("/api",), "x.conf", 1, (Directive(name, ("h:1",), "x", 2),))
    settings = Effective((location,))
    handler = settings.handler()
    assert handler is not None and handler.name == name
    assert module_prefix(settings) == HANDLERS[name]
    assert (buffering(settings) is None) == (name in ("grpc_pass", "memcached_pass"))


def test_fix_compares_flags_and_times_in_their_normal_form() -> None:
    for name in of_kind("flag"):
        assert normalized(name, ["OFF"]) == normalized(name, ["off"])
    for name in of_kind("time"):
        assert normalized(name, ["1m"]) == normalized(name, ["60"])
    # not a flag: `off` or a zone name, and nginx reads `OFF` as a zone (below)
    assert normalized("proxy_cache", ["OFF"]) != normalized("proxy_cache", ["off"])


@pytest.mark.parametrize(("value", "accepted"), [("off", True), ("OFF", False)])
def test_nginx_reads_proxy_cache_off_case_sensitively(
    tmp_path: Path, value: str, accepted: bool
) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{ server "
        f"{{ listen 127.0.0.1:1; location / {{ proxy_cache {value}; proxy_pass http://127.0.0.1:1; }} }} }}\n"
    )
    result = subprocess.run(
        [require_nginx(), "-t", "-q", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    assert (result.returncode == 0) == accepted, result.stderr
