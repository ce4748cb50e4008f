"""The rows of the ground-truth matrix: the /api configs tests/e2e/test_check_truth.py runs
through a real nginx, each over every transport. `{port}` is the backend's port, `{cache}` a
cache directory."""

from __future__ import annotations

from tests.nginx.truth import Row

CACHE_ZONE = "proxy_cache_path {cache} keys_zone=c:1m;"
HTTP11 = "proxy_http_version 1.1;"
OFF = "proxy_buffering off;"
GZIP = "gzip on; gzip_types text/event-stream;"
CACHE_POST = "proxy_cache c; proxy_cache_methods GET HEAD POST; proxy_cache_valid 200 1m;"

ROWS: tuple[Row, ...] = (
    Row("only proxy_pass", "", note="nginx defaults: HTTP/1.0 upstream, buffering on"),
    Row("http 1.1", HTTP11),
    Row("buffering off", OFF),
    Row("buffering off + http 1.1", f"{OFF} {HTTP11}"),
    Row("gzip + http 1.1", f"{HTTP11} {GZIP}"),
    Row("gzip + buffering off", f"{OFF} {GZIP}"),
    Row("gzip, http 1.0", GZIP),
    Row(
        "read_timeout 1s, backend silent 3s",
        f"{OFF} proxy_read_timeout 1s;",
        silent=True,
        heartbeat=3.0,
    ),
    Row(
        "read_timeout 6s, backend silent 3s",
        f"{OFF} proxy_read_timeout 6s;",
        silent=True,
        heartbeat=3.0,
    ),
    Row("cache for POST", f"{HTTP11} {CACHE_POST}", http=CACHE_ZONE, repeat=True),
    Row(
        "cache for GET/HEAD only",
        f"{HTTP11} proxy_cache c; proxy_cache_valid 200 1m;",
        http=CACHE_ZONE,
        repeat=True,
    ),
    Row("cache for POST, buffering off", f"{OFF} {CACHE_POST}", http=CACHE_ZONE, repeat=True),
    Row("postpone_output 65536", f"{HTTP11} postpone_output 65536;", note="folklore"),
    Row(
        "big proxy_buffers",
        f"{HTTP11} proxy_buffers 64 64k; proxy_buffer_size 64k; proxy_busy_buffers_size 128k;",
        note="folklore",
    ),
    Row(
        "proxy_set_header X-Accel-Buffering no",
        "proxy_set_header X-Accel-Buffering no;",
        note="folklore: a request header",
    ),
    Row(
        "add_header X-Accel-Buffering no",
        "add_header X-Accel-Buffering no;",
        note="folklore: a header to the client",
    ),
    Row(
        "buffering off + proxy_set_header X-Accel-Buffering no",
        f"{OFF} proxy_set_header X-Accel-Buffering no;",
    ),
    Row("proxy_request_buffering off", "proxy_request_buffering off;", note="folklore"),
    Row(
        "Connection '' + http 1.1 + buffering off",
        f"{HTTP11} {OFF} proxy_set_header Connection '';",
    ),
    Row(
        "sub_filter on text/event-stream (no match)",
        f"{HTTP11} sub_filter_types text/event-stream; sub_filter nomatch x;",
    ),
    Row("ignore X-Accel-Buffering + http 1.1", f"{HTTP11} proxy_ignore_headers X-Accel-Buffering;"),
    Row("ignore X-Accel-Buffering, http 1.0", "proxy_ignore_headers X-Accel-Buffering;"),
    Row(
        "ignore X-Accel-Buffering + gzip + http 1.1",
        f"{HTTP11} {GZIP} proxy_ignore_headers X-Accel-Buffering;",
    ),
    Row(
        "ignore X-Accel-Buffering + buffering off", f"{OFF} proxy_ignore_headers X-Accel-Buffering;"
    ),
    Row("http{} buffering off, location on", "proxy_buffering on;", http=OFF),
    Row("http{} buffering off, inherited", "", http=OFF),
    Row("server{} http 1.1, inherited", "", server=HTTP11),
    Row(
        "if (POST) { gzip on; } + http 1.1",
        f"{HTTP11} gzip_types text/event-stream; if ($request_method = POST) {{ gzip on; }}",
    ),
    Row(
        "if block without effect + buffering off",
        f"{OFF} if ($http_x_debug) {{ add_header X-Debug 1; }}",
    ),
    Row(
        "nested location inherits buffering off",
        f"{OFF} location /api/chat {{ proxy_pass http://127.0.0.1:{{port}}; }}",
    ),
    Row(
        "regex location wins over /api",
        OFF,
        extra_locations="    location ~ ^/api/chat { proxy_pass http://127.0.0.1:{port}; }\n",
    ),
    Row(
        "^~ /api keeps the regex away",
        OFF,
        location_args="^~ /api",
        extra_locations="    location ~ ^/api/chat { proxy_pass http://127.0.0.1:{port}; }\n",
    ),
    Row(
        "ssl_buffer_size 1k + http 1.1",
        HTTP11,
        server="ssl_buffer_size 1k;",
        events=40,
        gap=0.1,
        note="40 events 100 ms apart, 1.8 KiB: the 1k TLS buffer fills about every 2 s",
    ),
    Row(
        "ssl_buffer_size 4k + http 1.1",
        HTTP11,
        server="ssl_buffer_size 4k;",
        events=40,
        gap=0.1,
        note="40 events 100 ms apart: under 4 KiB in all",
    ),
    Row(
        "ssl_buffer_size 1k + buffering off",
        OFF,
        server="ssl_buffer_size 1k;",
        events=40,
        gap=0.1,
    ),
    Row(
        "http2 on; + http 1.1",
        HTTP11,
        http2_directive=True,
        note="nginx 1.25.1+ spelling of listen ... http2",
    ),
)
HTTP2_DIRECTIVE_SINCE = (1, 25, 1)
"""The nginx version that has `http2 on;` (older ones reject it: its row is skipped there)."""
