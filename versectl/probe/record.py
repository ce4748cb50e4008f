"""What one probed stream was observed to do: requests, reads and events, each with its clock.

Written by the client on the read path (appends only, nothing computed there) and read by the
live view from another thread and by the analysis afterwards. Times are perf_counter_ns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ERROR_KINDS = ("connect", "tls", "http", "not_sse", "timeout", "protocol")
MAX_STORED_READS = 50_000
MAX_STORED_ARRIVALS = 50_000
MAX_STORED_DATA_BYTES = 8 << 20
"""A stream keeps its first reads and events up to these caps (a chat answer is a few thousand
events) and only counts the rest: a flood of millions of events stays in bounded memory."""


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    """Why a stream could not be read (kind: one of ERROR_KINDS, per CONTRACT.md)."""

    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class Arrival:
    """A dispatched SSE event carrying data, stamped with the read that completed it."""

    t_ns: int
    read: int
    """Index into StreamRecord.read_ns."""
    event: str
    data: str
    size: int


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int
    url: str
    location: str
    dropped: tuple[str, ...] = ()
    """What the next request did not carry because it went to another origin (no values)."""


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Everything needed to send one stream request; identical for every run and hop."""

    url: str
    method: str = "GET"
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    timeout: float = 120.0
    connect_timeout: float = 5.0
    insecure: bool = False
    http_version: str = "HTTP/1.1"
    """"HTTP/1.1" or "HTTP/2" (versectl.probe.protocol.HttpVersion): what the probe speaks."""
    cacert: str | None = None
    """A PEM file of CA certificates to trust instead of the system's (curl's --cacert)."""
    framing: str | None = None
    """How the app frames tokens (versectl.probe.framing), from --app; None: guessed."""
    connect_to: tuple[str, int] | None = None
    """Connect here instead of the URL's host (curl's --connect-to): the URL, its Host header,
    TLS SNI and certificate check stay the public name (doctor's probe of the local nginx)."""
    resolve: tuple[tuple[str, int, str], ...] = ()
    """(host, port, address): connect to `address` for `host:port`; Host and TLS SNI stay the
    URL's (curl's --resolve)."""


@dataclass
class StreamRecord:
    """The observations of one stream. Fields only grow while the stream runs."""

    url: str
    started_ns: int = 0
    """Before name resolution and connect."""
    connected_ns: int | None = None
    sent_ns: int | None = None
    """When the last byte of the (final) request was written: the origin of every *_ms."""
    headers_ns: int | None = None
    ended_ns: int | None = None
    status: int | None = None
    asked_version: str | None = None
    """The HTTP version the probe offered (ProbeRequest.http_version)."""
    http_version: str | None = None
    """The one the server answered in ("HTTP/1.1", "HTTP/2"), once it answered."""
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[Redirect] = field(default_factory=list)
    read_ns: list[int] = field(default_factory=list)
    read_bytes: list[int] = field(default_factory=list)
    """Body bytes as they came off the wire (before Content-Encoding is undone)."""
    decoded_bytes: int = 0
    arrivals: list[Arrival] = field(default_factory=list)
    comments: int = 0
    invalid_utf8: int = 0
    unfinished_bytes: int = 0
    """Bytes after the last complete event when the stream ended (an event cut short)."""
    error: ProbeFailure | None = None
    framing: str | None = None
    """ProbeRequest.framing: which events are tokens (None: versectl.probe.timing guesses)."""
    wire: str = "sse"
    """"sse" or "ndjson": how the body was parsed (from its Content-Type)."""
    truncated: bool = False
    """The caps above were reached: reads and arrivals hold a prefix of the stream."""
    reads_dropped: int = 0
    read_bytes_dropped: int = 0
    arrivals_dropped: int = 0
    stored_data_bytes: int = 0

    def add_read(self, t_ns: int, size: int, *, same_read: bool = False) -> None:
        """A socket read (`same_read`: another HTTP chunk of the previous read)."""
        if self.truncated:
            self.read_bytes_dropped += size
            self.reads_dropped += not same_read
        elif same_read and self.read_bytes:
            self.read_bytes[-1] += size
        elif len(self.read_ns) >= MAX_STORED_READS:
            self.truncated = True
            self.add_read(t_ns, size, same_read=same_read)
        else:
            self.read_ns.append(t_ns)
            self.read_bytes.append(size)

    def add_arrival(self, arrival: Arrival) -> None:
        if not self.truncated and (
            len(self.arrivals) >= MAX_STORED_ARRIVALS
            or self.stored_data_bytes + len(arrival.data) > MAX_STORED_DATA_BYTES
        ):
            self.truncated = True
        if self.truncated:
            self.arrivals_dropped += 1
        else:
            self.arrivals.append(arrival)
            self.stored_data_bytes += len(arrival.data)

    @property
    def events(self) -> int:
        """Data events seen, stored or not."""
        return len(self.arrivals) + self.arrivals_dropped

    @property
    def reads(self) -> int:
        return len(self.read_ns) + self.reads_dropped

    @property
    def over_tls_http1(self) -> bool:
        """HTTP/1.x over TLS: the transport nginx's TLS buffer holds (see attribution.py)."""
        version = self.http_version or self.asked_version or "HTTP/1.1"
        return self.url.startswith("https:") and version.startswith("HTTP/1")

    @property
    def body_bytes(self) -> int:
        return sum(self.read_bytes) + self.read_bytes_dropped

    def ms(self, t_ns: int | None) -> float | None:
        """Milliseconds from the request being sent to `t_ns`."""
        if t_ns is None:
            return None
        origin = self.sent_ns if self.sent_ns is not None else self.started_ns
        return (t_ns - origin) / 1e6
