"""Naming the hops in front of nginx from response headers; Content-Encoding added between."""

from __future__ import annotations

from versectl.doctor_hops import local_address
from versectl.probe.hops import compressing_hop, encoding_added, front_hops


def test_hops_named_from_headers() -> None:
    assert [h.name for h in front_hops({"cf-ray": "8c-AMS"})] == ["Cloudflare"]
    assert [h.name for h in front_hops({"server": "cloudflare"})] == ["Cloudflare"]
    assert [h.name for h in front_hops({"via": "1.1 Caddy"})] == ["Caddy"]
    assert [h.name for h in front_hops({"server": "Traefik"})] == ["Traefik"]
    assert [h.name for h in front_hops({"x-amz-cf-id": "x"})] == ["CloudFront"]
    assert front_hops({"server": "nginx/1.22.1", "via": "1.1 varnish"}) == []


def test_hops_cloudflare_remedy_says_524_and_no_transform() -> None:
    (hop,) = front_hops({"cf-ray": "8c-AMS"})
    assert "524" in hop.remedy and "no-transform" in hop.remedy and hop.evidence == "cf-ray: 8c-AMS"


def test_hops_encoding_added_between() -> None:
    assert encoding_added({"content-encoding": "br"}, {}) == "br"
    assert encoding_added({"content-encoding": "gzip"}, {"content-encoding": "gzip"}) is None
    assert encoding_added({}, {}) is None
    assert compressing_hop({"content-encoding": "gzip"}).name == "a compressing proxy"
    assert compressing_hop({"content-encoding": "gzip", "via": "1.1 Caddy"}).name == "Caddy"


def test_hops_local_address_default_and_option() -> None:
    assert local_address("chat.example.com", 443, None) == ("127.0.0.1", 443)
    assert local_address("127.0.0.1", 8080, None) is None
    assert local_address("127.0.0.1", 8080, "127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert local_address("x", 1, "[::1]:443") == ("::1", 443)
