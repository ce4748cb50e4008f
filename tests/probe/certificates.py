"""A throwaway self-signed certificate for 127.0.0.1 (openssl req), and nginx TLS listeners.

Generated per test into its tmp_path: no key file is ever committed. The certificate is its
own CA, so `--cacert CERT` makes the probe trust it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(directory: Path) -> Certificate:
    directory.mkdir(parents=True, exist_ok=True)
    files = Certificate(directory / "cert.pem", directory / "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(files.key), "-out", str(files.cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return files


def tls_site(certificate: Certificate, location_body: str, *, http2: bool = True) -> str:
    """One server `listen ... ssl [http2]` on @PORT@ with `location /api { location_body }`."""
    listen = "ssl http2" if http2 else "ssl"
    return (
        f"server {{\n    listen 127.0.0.1:@PORT@ {listen};\n"
        f"    ssl_certificate {certificate.cert};\n    ssl_certificate_key {certificate.key};\n"
        f"    location /api {{\n{location_body}    }}\n}}\n"
    )


def https_url(port: int, path: str = "/api/x") -> str:
    return f"https://127.0.0.1:{port}{path}"
