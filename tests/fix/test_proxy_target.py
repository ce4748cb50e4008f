"""The new proxy_pass: the backend's port, everything else of the user's URL kept."""

from __future__ import annotations

import pytest

from versectl.fix.proxy_target import retarget


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://localhost:8000", "http://localhost:7776"),
        ("http://localhost:8000/", "http://localhost:7776/"),
        ("http://[::1]:8000/api", "http://[::1]:7776/api"),
        ("HTTPS://LOCALHOST:1", "HTTPS://LOCALHOST:7776"),
        (None, "http://127.0.0.1:7776"),
    ],
)
def test_proxy_target_sets_the_port(url: str | None, expected: str) -> None:
    result = retarget(url, 7776, ())
    assert (result.url, result.note) == (expected, None)


@pytest.mark.parametrize(
    ("url", "upstreams", "word"),
    [
        ("http://$backend", (), "variables"),
        ("http://unix:/run/verse.sock:/", (), "unix"),
        ("http://verse", ("verse",), "upstream"),
        ("not a url", (), "understands"),
    ],
)
def test_proxy_target_leaves_unportable_urls_alone(
    url: str, upstreams: tuple[str, ...], word: str
) -> None:
    result = retarget(url, 7776, upstreams)
    assert result.url == url
    assert result.note is not None and word in result.note


@pytest.mark.parametrize("url", ["http://backend", "http://api:5001/", "https://api.openai.com"])
def test_proxy_target_keeps_the_port_of_other_machines(url: str) -> None:
    result = retarget(url, 7776, ())
    assert result.url == url
    assert result.note is not None and "not this machine" in result.note


@pytest.mark.parametrize(
    ("url", "variables", "expected", "word"),
    [
        # the literal host:port before a request-path variable is set like any
        ("http://127.0.0.1:8000$request_uri", {}, "http://127.0.0.1:7776$request_uri", None),
        ("http://api:3080$request_uri", {}, "http://api:3080$request_uri", "not this machine"),
        # Nginx Proxy Manager: the address is in `set` lines; checked, named, left alone
        ("$scheme_://$server:$port$request_uri", {"scheme_": "http", "server": "127.0.0.1",
         "port": "8000"}, "$scheme_://$server:$port$request_uri", "set its port to 7776"),
        ("http://$server:$port", {"server": "127.0.0.1", "port": "7776"},
         "http://$server:$port", None),
        ("http://$server:$port", {"server": "127.0.0.1"}, "http://$server:$port", "variables"),
    ],
)  # fmt: skip
def test_proxy_target_behind_variables(
    url: str, variables: dict[str, str], expected: str, word: str | None
) -> None:
    result = retarget(url, 7776, (), variables)
    assert result.url == expected
    assert (result.note is None) if word is None else (word in (result.note or ""))
