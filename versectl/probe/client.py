"""Send one stream request with httpx and stamp every socket read with perf_counter_ns.

The stamp is taken inside the network stream that httpcore reads from, the moment the read
returns and before HTTP parsing, so several HTTP chunks that came in one read share it and a
read that completed the headers and the first events gives both the same time. Over HTTP/2 the
same holds per DATA frame: httpcore reads only when no frame of the stream is waiting, so the
frames a read completed are handed out, stamped with that read, before the next read.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import h2.events
import httpcore
import httpx
from hyperframe.exceptions import HyperframeError
from hyperframe.frame import ContinuationFrame, DataFrame, Frame, HeadersFrame

from versectl.errors import InputError, ProbeError
from versectl.probe.encoding import ACCEPT_ENCODING, BodyDecoder, ContentDecodingError
from versectl.probe.failures import classify
from versectl.probe.ndjson import NDJSONParser
from versectl.probe.protocol import HttpVersion
from versectl.probe.record import Arrival, ProbeFailure, ProbeRequest, Redirect, StreamRecord
from versectl.probe.redirects import MAX_REDIRECTS, first_hop, is_redirect, next_hop, origin
from versectl.probe.sse import SSEParser, SSEProtocolError

USER_AGENT = "versectl-probe"
DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (
    ("Accept", "text/event-stream"),
    (
        "Accept-Encoding",
        ACCEPT_ENCODING,
    ),  # like a browser: a probe without gzip misses the most common break
    ("Cache-Control", "no-cache"),
    ("User-Agent", USER_AGENT),
)
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"})
"""Line-delimited JSON streams (Ollama's /api/chat): read and timed line by line."""
_ERROR_BODY_LIMIT = 1024
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_H2_FRAME_HEADER = 9


class _ReadClock:
    """Shared by the streams of one probe: the time and index of the latest socket read."""

    def __init__(self) -> None:
        self.reads = 0
        self.last_read_ns = 0
        self.last_write_ns = 0
        self.connected_ns = 0


def _carries_request(buffer: bytes) -> bool:
    """Whether an HTTP/2 write holds request frames (HEADERS, CONTINUATION, DATA).

    The other writes (SETTINGS and PING acknowledgements, WINDOW_UPDATE) answer frames the
    server sent, some of them after the request: they must not move the origin of every time.
    h2 writes whole frames, so walking the 9-byte headers (via hyperframe) is enough.
    """
    view = memoryview(buffer)
    if view[: len(_H2_PREFACE)] == _H2_PREFACE:
        view = view[len(_H2_PREFACE) :]
    while len(view) >= _H2_FRAME_HEADER:
        try:
            frame, length = Frame.parse_frame_header(view[:_H2_FRAME_HEADER])
        except HyperframeError:  # a frame type this hyperframe does not know: not a request
            length = int.from_bytes(view[:3], "big")
        else:
            if isinstance(frame, HeadersFrame | ContinuationFrame | DataFrame):
                return True
        view = view[_H2_FRAME_HEADER + length :]
    return False


class _TimedStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, clock: _ReadClock) -> None:
        self._inner = inner
        self._clock = clock
        self._h2: bool | None = None
        """Known at the first write: HTTP/2 starts with its connection preface."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109 (httpcore's interface)
        data = await self._inner.read(max_bytes, timeout)
        self._clock.last_read_ns = time.perf_counter_ns()
        self._clock.reads += 1
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)
        t_ns = time.perf_counter_ns()
        if self._h2 is None and buffer:
            self._h2 = buffer.startswith(_H2_PREFACE)
        if not self._h2 or _carries_request(buffer):
            self._clock.last_write_ns = t_ns

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        self._clock.connected_ns = time.perf_counter_ns()
        return _TimedStream(inner, self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TimedBackend(httpcore.AsyncNetworkBackend):
    def __init__(
        self,
        clock: _ReadClock,
        connect_to: tuple[str, int] | None = None,
        resolve: tuple[tuple[str, int, str], ...] = (),
    ) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._clock = clock
        self._connect_to = connect_to
        self._resolve = {(host, port): address for host, port, address in resolve}

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._connect_to is not None:
            host, port = self._connect_to
        else:
            # --resolve: only the TCP address changes; httpcore sends Host and SNI from the URL
            host = self._resolve.get((host.lower(), port), host)
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        self._clock.connected_ns = time.perf_counter_ns()
        return _TimedStream(stream, self._clock)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _TimedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (its exception mapping) over the timed backend, speaking one version.

    httpx does not take a network backend, so the pool is rebuilt with the same settings; the
    attribute is private, which is why httpx is pinned below 1.0 in pyproject.toml.
    HTTP/2 over TLS offers h2 and http/1.1 by ALPN, as curl --http2 and browsers do (a server
    without h2 gets HTTP/1.1 and the record says so); over plain HTTP it is h2c with prior
    knowledge (httpcore has no Upgrade: h2c), which only servers listening for h2c answer.
    """

    def __init__(
        self, ssl_context: ssl.SSLContext, clock: _ReadClock, request: ProbeRequest
    ) -> None:
        http2 = request.http_version == HttpVersion.http2
        tls = httpx.URL(request.url).scheme == "https"
        super().__init__(verify=ssl_context, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=4,
            http1=not http2 or tls,
            http2=http2,
            network_backend=_TimedBackend(clock, request.connect_to, request.resolve),
        )


def make_ssl_context(insecure: bool, cacert: str | None = None) -> ssl.SSLContext:
    """One context for every stream of a probe (building one costs milliseconds).

    httpcore sets the ALPN protocols on the context at each connect: HTTP/2 and HTTP/1.1
    probes running at once need a context each. `cacert`: trust these CAs, not the system's.
    """
    if insecure or cacert is None:
        return httpx.create_ssl_context(verify=not insecure, trust_env=False)
    try:
        return ssl.create_default_context(cafile=cacert)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"--cacert {cacert}: cannot load CA certificates ({reason})") from None


async def probe_stream(
    request: ProbeRequest,
    *,
    record: StreamRecord | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> StreamRecord:
    """Send `request`, read its event stream to the end (or the timeout), return what was seen.

    Never raises for network or server behaviour: failures land in `record.error`, with
    everything observed until then kept.
    """
    record = record or StreamRecord(url=request.url)
    record.asked_version = request.http_version
    record.framing = request.framing
    clock = _ReadClock()
    context = ssl_context or make_ssl_context(request.insecure, request.cacert)
    timeout = httpx.Timeout(request.connect_timeout, read=None, write=request.timeout, pool=None)
    record.started_ns = time.perf_counter_ns()
    async with httpx.AsyncClient(
        transport=_TimedTransport(context, clock, request),
        follow_redirects=False,  # followed by _send, with the policy of versectl.probe.redirects
        timeout=timeout,
        cookies=_refusing_jar(),
        trust_env=False,
    ) as client:
        try:
            async with asyncio.timeout(request.timeout):
                await _exchange(client, request, record, clock)
        except TimeoutError:
            record.error = ProbeFailure("timeout", _timeout_message(record, request.timeout))
        except (httpx.HTTPError, OSError) as exc:
            record.error = _h2_failure(
                exc,
                record,
                request,
                classify(exc, request.url, response_started=record.status is not None),
            )
        except (SSEProtocolError, ContentDecodingError) as exc:
            record.error = ProbeFailure("protocol", str(exc))
        except ProbeError as exc:
            record.error = ProbeFailure(exc.kind, str(exc))
    record.ended_ns = record.ended_ns or time.perf_counter_ns()
    return record


def _refusing_jar() -> httpx.Cookies:
    """httpx's jar sends a cookie to any port of its host: cookies are sent by _send instead."""
    return httpx.Cookies(CookieJar(DefaultCookiePolicy(allowed_domains=[])))


async def _send(
    client: httpx.AsyncClient, request: ProbeRequest, record: StreamRecord
) -> httpx.Response:
    """Send the request and follow its redirects; cookies and headers only to their origin."""
    hop = first_hop(request)
    set_cookies: dict[tuple[str, str, int], dict[str, str]] = {}
    for _ in range(MAX_REDIRECTS + 1):
        headers = httpx.Headers(DEFAULT_HEADERS)
        for name, value in hop.headers:
            headers[name] = value
        cookies = dict(hop.cookies) | set_cookies.get(origin(hop.url), {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        http_request = client.build_request(hop.method, hop.url, headers=headers, content=hop.body)
        response = await client.send(http_request, stream=True)
        if not is_redirect(response):
            return response
        await response.aclose()  # a redirect's body is never read: it may be a bomb
        jar = set_cookies.setdefault(origin(hop.url), {})
        jar.update(_set_cookies(response))
        location = response.headers["location"]
        try:
            hop = next_hop(request, hop, response.status_code, location)
        except httpx.InvalidURL:
            raise ProbeError("http", f"HTTP {response.status_code}: bad Location") from None
        if hop.url.scheme not in ("http", "https"):
            raise ProbeError(
                "http", f"HTTP {response.status_code} to a {hop.url.scheme}: URL: not followed"
            )
        record.redirects.append(
            Redirect(response.status_code, str(response.url), location, hop.dropped)
        )
    raise ProbeError("http", f"more than {MAX_REDIRECTS} redirects")


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    jar = httpx.Cookies()
    jar.extract_cookies(response)
    return {cookie.name: cookie.value or "" for cookie in jar.jar}


async def _exchange(
    client: httpx.AsyncClient, request: ProbeRequest, record: StreamRecord, clock: _ReadClock
) -> None:
    deadline_ns = record.started_ns + int(request.timeout * 1e9)
    response = await _send(client, request, record)
    try:
        record.headers_ns = clock.last_read_ns
        record.connected_ns = clock.connected_ns or None
        record.sent_ns = clock.last_write_ns or record.started_ns
        record.status = response.status_code
        record.http_version = response.http_version
        record.final_url = str(response.url)
        record.headers = {name.lower(): value for name, value in response.headers.items()}
        if not 200 <= response.status_code < 300:
            record.error = ProbeFailure("http", await _http_error_message(response))
            return
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type in NDJSON_TYPES:
            record.wire = "ndjson"
        elif media_type != "text/event-stream":
            shown = content_type or "no Content-Type"
            record.error = ProbeFailure(
                "not_sse",
                f"the response is {shown}, not text/event-stream (nor application/x-ndjson)",
            )
            return
        await _read_events(response, record, clock, deadline_ns)
    finally:
        await response.aclose()


async def _read_events(
    response: httpx.Response, record: StreamRecord, clock: _ReadClock, deadline_ns: int
) -> None:
    """The read path: stamp, decode, parse, append. Nothing else happens here.

    Decoding and parsing happen in bounded pieces with the deadline checked between them: a
    small compressed read can hold minutes of parsing work, during which no await would let
    asyncio's timeout fire.
    """
    decoder = BodyDecoder(response.headers.get("content-encoding"))
    parser: SSEParser | NDJSONParser = NDJSONParser() if record.wire == "ndjson" else SSEParser()
    last_read = -1
    try:
        async for raw in response.aiter_raw():
            t_ns = clock.last_read_ns
            record.add_read(t_ns, len(raw), same_read=clock.reads == last_read)
            last_read = clock.reads
            for piece in decoder.pieces(raw):
                _append(record, parser, parser.feed(piece), t_ns, deadline_ns)
        for piece in decoder.flush_pieces():
            _append(record, parser, parser.feed(piece), clock.last_read_ns, deadline_ns)
    finally:
        record.decoded_bytes = decoder.decoded
        record.ended_ns = time.perf_counter_ns()
        record.comments = parser.comments
        record.invalid_utf8 = parser.invalid_utf8
        record.unfinished_bytes = parser.buffered_bytes


def _append(
    record: StreamRecord,
    parser: SSEParser | NDJSONParser,
    events: list[Any],
    t_ns: int,
    deadline_ns: int,
) -> None:
    index = len(record.read_ns) - 1
    for event in events:
        record.add_arrival(Arrival(t_ns, index, event.event, event.data, event.size))
    record.comments = parser.comments
    if time.perf_counter_ns() > deadline_ns:
        raise TimeoutError  # --timeout is wall clock for the whole stream, decoding included


async def _http_error_message(response: httpx.Response) -> str:
    """`HTTP 401 Unauthorized: {"detail": ...}`, with at most a short excerpt of the body."""
    body = bytearray()
    try:
        async with asyncio.timeout(2):
            await _read_excerpt(response, body)
    except (TimeoutError, httpx.HTTPError, ContentDecodingError):
        pass  # the excerpt is a courtesy: what came before the fault is enough
    excerpt = " ".join(bytes(body[:200]).decode("utf-8", "replace").split())
    reason = response.reason_phrase or ""
    message = f"HTTP {response.status_code} {reason}".rstrip()
    return f"{message}: {excerpt}" if excerpt else message


def _h2_failure(
    exc: BaseException, record: StreamRecord, request: ProbeRequest, failure: ProbeFailure
) -> ProbeFailure:
    """HTTP/2's own ways to fail, said in words: a stream reset (nginx resets the stream when
    its upstream breaks off), or h2c prior knowledge to a server that answered in HTTP/1.1."""
    reset = next(
        (arg for cause in (exc, exc.__cause__, exc.__context__) if cause for arg in cause.args
         if isinstance(arg, h2.events.StreamReset)),
        None,
    )  # fmt: skip
    if reset is not None:
        code = getattr(reset.error_code, "name", reset.error_code)
        return ProbeFailure(
            "protocol", f"the server reset the HTTP/2 stream (RST_STREAM {code}) mid-response"
        )
    plain = httpx.URL(request.url).scheme == "http"
    h2c = request.http_version == HttpVersion.http2 and plain
    if not h2c or failure.kind != "protocol" or record.status is not None:
        return failure
    return ProbeFailure(
        "protocol",
        "no HTTP/2 answer over plain HTTP: --http2 on an http:// URL speaks h2c with prior "
        "knowledge, which this server does not (nginx: listen ... http2 without ssl)",
    )


async def _read_excerpt(response: httpx.Response, body: bytearray) -> None:
    decoder = BodyDecoder(response.headers.get("content-encoding"))
    async for raw in response.aiter_raw():
        for piece in decoder.pieces(raw):  # bounded pieces: a bomb stops at the first one
            body += piece[: _ERROR_BODY_LIMIT - len(body)]
            if len(body) >= _ERROR_BODY_LIMIT:
                return


def _timeout_message(record: StreamRecord, seconds: float) -> str:
    if record.status is None:
        return f"no response headers within --timeout {seconds:g} s"
    got = f"{record.events} events" if record.events else "no event"
    return f"the stream was still open after --timeout {seconds:g} s ({got} so far)"
