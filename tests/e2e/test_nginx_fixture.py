"""The e2e building blocks work: a real nginx in front of a scripted backend, timed over a socket."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.support.nginx import NginxServer
from tests.support.scripted_server import Plan, scripted_server, sse_tokens


def _read_times(url: str, headers: dict[str, str] | None = None) -> list[float]:
    start = time.perf_counter()
    times: list[float] = []
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        for _chunk in response.iter_raw():
            times.append(time.perf_counter() - start)
    return times


def _site(backend_port: int, location_body: str) -> str:
    return (
        "server {\n    listen 127.0.0.1:@PORT@;\n"
        f"    location /api {{\n        proxy_pass http://127.0.0.1:{backend_port};\n"
        f"{location_body}    }}\n}}\n"
    )


def test_nginx_fixture_streams_with_http11_upstream(
    nginx: Callable[[str], NginxServer],
) -> None:
    with scripted_server(Plan(sse_tokens(20, 0.02))) as backend:
        server = nginx(_site(backend.port, "        proxy_http_version 1.1;\n"))
        times = _read_times(server.url + "/api/chat/message")
    assert len(times) >= 10, times
    assert times[-1] - times[0] > 0.2


def test_nginx_fixture_holds_http10_close_delimited_stream(
    nginx: Callable[[str], NginxServer],
) -> None:
    with scripted_server(Plan(sse_tokens(20, 0.02))) as backend:
        server = nginx(_site(backend.port, ""))
        times = _read_times(server.url + "/api/chat/message")
        assert backend.requests[0].version == "HTTP/1.0"
    assert len(times) <= 2, times


def test_nginx_fixture_reload_applies_new_config(nginx: Callable[[str], NginxServer]) -> None:
    with scripted_server(Plan(sse_tokens(20, 0.02))) as backend:
        server = nginx(_site(backend.port, ""))
        assert len(_read_times(server.url + "/api/x")) <= 2
        server.site_path.write_text(
            _site(backend.port, "        proxy_buffering off;\n").replace(
                "@PORT@", str(server.port)
            )
        )
        server.reload()
        assert len(_read_times(server.url + "/api/x")) >= 10
