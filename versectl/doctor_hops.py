"""doctor's look at the hops in front of nginx: the public URL's stream against the same request
sent to this machine's nginx (same Host and TLS SNI, `connect_to`), named from the headers."""

from __future__ import annotations

from collections.abc import Sequence

from versectl.probe.analysis import StreamAnalysis, aggregate
from versectl.probe.hops import compressing_hop, encoding_added, front_hops
from versectl.probe.verdict import Verdict

_HELD = (Verdict.buffered, Verdict.partial)
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def local_address(url_host: str, url_port: int, option: str | None) -> tuple[str, int] | None:
    """Where this machine's nginx is: --local ADDRESS:PORT; by default 127.0.0.1 on the URL's
    port when the URL names another host (for a loopback URL the probe already is local)."""
    from versectl.errors import InputError

    if option is not None:
        address, colon, port = option.rpartition(":")
        if not colon or not port.isdigit() or not 0 < int(port) < 65536:
            raise InputError(f"--local {option!r}: expected ADDRESS:PORT (127.0.0.1:443)")
        return (address.strip("[]") or "127.0.0.1", int(port))
    if url_host.strip("[]") in _LOOPBACK:
        return None
    return ("127.0.0.1", url_port)


def hop_advice(
    public: Sequence[StreamAnalysis], local: Sequence[StreamAnalysis] | None
) -> list[str]:
    """Name the hop in front of nginx that holds, cuts or re-encodes the stream."""
    if not public:
        return []
    front = public[0].record.headers
    hops = front_hops(front)
    if local is None or not local:
        return [f"in front: {h.name} ({h.evidence}): {h.remedy}" for h in hops if h.name]
    behind = local[0].record.headers
    # a mark the local nginx's answer carries too was not added in front (the backend's own)
    hops = [h for h in hops if h not in front_hops(behind)]
    public_verdict = aggregate(public).verdict
    local_verdict = aggregate(local).verdict
    lines: list[str] = []
    added = encoding_added(front, behind)
    if added is not None:
        hop = compressing_hop(front)
        lines.append(
            f"Content-Encoding {added} appears between the public URL and this machine's nginx "
            f"(which sends none): {hop.name} compresses the stream ({hop.evidence}): {hop.remedy}"
        )
    if local_verdict is Verdict.streaming and (
        public_verdict in _HELD or public_verdict is Verdict.error
    ):
        what = "holds" if public_verdict in _HELD else "cuts"
        if hops:
            names = ", ".join(f"{h.name} ({h.evidence})" for h in hops)
            remedies = "; ".join(h.remedy for h in hops)
            lines.append(
                f"this machine's nginx streams, the public URL does not: the hop in front "
                f"{what} the stream: {names}. {remedies}"
            )
        elif added is None:
            lines.append(
                f"this machine's nginx streams, the public URL does not: a hop in front {what} "
                "the stream and no header names it (a load balancer, a CDN, another proxy): "
                "turn off buffering and compression for text/event-stream there"
            )
    elif local_verdict in _HELD and public_verdict in _HELD:
        lines.append(
            "this machine's nginx already holds the stream: fix nginx first (the check above)"
        )
    elif public_verdict is Verdict.streaming and hops:
        names = ", ".join(h.name for h in hops)
        lines.append(f"the stream passes {names} in front of nginx today")
    return lines
