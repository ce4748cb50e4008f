"""Build the stream request from command-line values: body, method, headers, cookies.

verse_backend's chat URIs get a default body, so `versectl probe-stream URL` works as is.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from versectl.errors import InputError
from versectl.probe.record import ProbeRequest

if TYPE_CHECKING:
    from versectl.apps.profile import AppProfile

DEFAULT_MESSAGE = (
    "In about 200 words, explain why a reverse proxy can make a streamed chat answer "
    "appear all at once."
)
MAX_BODY_BYTES = 8 << 20
"""-d: a chat request is a few KiB; more is a mistake (or /dev/zero)."""
CHAT_BODIES: dict[str, dict[str, object]] = {
    "/api/chat/message": {"message": DEFAULT_MESSAGE, "insight_id": 1},
    "/api/standalone-chat": {"message": DEFAULT_MESSAGE},
}


def parse_url(url: str, what: str = "URL") -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise InputError(f"{what} {url!r} is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InputError(f"{what} {url!r} must be an absolute http:// or https:// URL")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(f"{what} {url!r}: port {parsed.port} is out of range")
    return parsed


def parse_resolve(text: str) -> tuple[str, int, str]:
    """`--resolve HOST:PORT:ADDRESS` (curl's spelling; ADDRESS an IP, IPv6 in brackets or not)."""
    host, _, rest = text.partition(":")
    port_text, _, address = rest.partition(":")
    usage = InputError(f"--resolve {text!r}: expected HOST:PORT:ADDRESS (an IP address)")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise usage
    try:
        ip = ipaddress.ip_address(address.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise usage from None
    return host.lower().rstrip("."), int(port_text), str(ip)


def default_body(url: httpx.URL) -> bytes | None:
    """The body verse_backend's chat routes accept, for their URIs; None elsewhere."""
    body = CHAT_BODIES.get(url.path.rstrip("/"))
    return json.dumps(body).encode() if body is not None else None


def read_body(data: str) -> bytes:
    """`-d` value: JSON text, @FILE holding JSON, or @- for stdin (as curl). Validated so a typo
    fails here, clearly; a file is read only when regular and up to MAX_BODY_BYTES."""
    if data == "@-":
        raw, origin = sys.stdin.buffer.read(MAX_BODY_BYTES + 1), "-d @- (stdin)"
    elif data.startswith("@"):
        raw, origin = _read_body_file(Path(data[1:])), f"-d file {data[1:]}"
    else:
        raw, origin = data.encode("utf-8", "surrogateescape"), "-d"
    if len(raw) > MAX_BODY_BYTES:
        raise InputError(f"{origin} is larger than {MAX_BODY_BYTES >> 20} MiB")
    try:
        json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin} is not UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise InputError(f"{origin} is not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(f"{origin}: the JSON is nested too deeply") from None
    return raw


def _read_body_file(path: Path) -> bytes:
    """Opened without blocking (a FIFO would wait for a writer forever), read with a cap."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise InputError(f"cannot read -d file {path}: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise InputError(f"cannot read -d file {path}: {what}")
    with os.fdopen(fd, "rb") as file:
        try:
            return file.read(MAX_BODY_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read -d file {path}: {exc.strerror or exc}") from None


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_header(text: str) -> tuple[str, str]:
    name, colon, value = text.partition(":")
    if not colon or not _TOKEN.fullmatch(name.strip()):
        raise InputError(f"-H {text!r}: expected 'Name: value'")
    if any(c in value for c in "\r\n\0"):
        raise InputError(f"-H {name.strip()}: the value holds a line break")
    return name.strip(), value.strip()


def parse_cookies(text: str) -> list[tuple[str, str]]:
    """`-b 'k=v'` or `-b 'a=1; b=2'` (the value is never echoed back in messages)."""
    cookies = []
    for part in text.split(";"):
        name, equals, value = part.strip().partition("=")
        if not equals or not _TOKEN.fullmatch(name.strip()):
            raise InputError(f"-b: expected 'name=value' (cookie {name.strip()!r})")
        if not all(" " < c < "\x7f" and c not in '",\\' for c in value.strip()):
            # the value itself is never echoed: it may be a secret
            raise InputError(
                f"-b: the value of cookie {name.strip()!r} has characters a cookie cannot carry"
            )
        cookies.append((name.strip(), value.strip()))
    return cookies


def build_request(
    url: str,
    *,
    method: str | None = None,
    data: str | None = None,
    headers: list[str] | None = None,
    cookies: list[str] | None = None,
    timeout: float = 120.0,
    connect_timeout: float = 5.0,
    insecure: bool = False,
    app: AppProfile | None = None,
    model: str | None = None,
    resolve: list[str] | None = None,
) -> ProbeRequest:
    """`app` (--app): its endpoint for the URL's path gives the default body (with `model`,
    --model) and the token framing; verse keeps its own defaults."""
    parsed = parse_url(url)
    resolved = tuple(parse_resolve(item) for item in resolve or [])
    spec = app.stream_for(parsed.path) if app is not None and app.name != "verse" else None
    if data is not None:
        body: bytes | None = read_body(data)
    elif spec is not None:
        body = spec.request_body(DEFAULT_MESSAGE, model)
    else:
        body = default_body(parsed)
    header_pairs = [parse_header(h) for h in headers or []]
    if body is not None and not any(name.lower() == "content-type" for name, _ in header_pairs):
        header_pairs.insert(0, ("Content-Type", "application/json"))
    cookie_pairs = [pair for text in cookies or [] for pair in parse_cookies(text)]
    if method is not None and not _TOKEN.fullmatch(method):
        raise InputError(f"-X {method!r} is not an HTTP method")
    if timeout <= 0 or connect_timeout <= 0:
        raise InputError("--timeout and --connect-timeout must be positive")
    return ProbeRequest(
        url=str(parsed),
        method=(method or ("POST" if body is not None else "GET")).upper(),
        body=body,
        headers=tuple(header_pairs),
        cookies=tuple(cookie_pairs),
        timeout=timeout,
        connect_timeout=connect_timeout,
        insecure=insecure,
        framing=spec.framing if spec is not None else None,
        resolve=resolved,
    )
