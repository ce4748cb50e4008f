"""Where the nginx binary is: PATH first, then the places packages and source builds install it.

The one finder for check (`nginx -T`), fix (`nginx -t`), the demo and the tests.
"""

from __future__ import annotations

import os
import shutil

CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
"""Debian/RPM packages, `make install` with --sbin-path, nginx.org's default prefix: checked
when PATH lacks them (a non-root shell often has no /usr/sbin)."""


def nginx_binary() -> str | None:
    """The nginx binary on PATH, else the first executable candidate; None when there is none."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in CANDIDATES if os.access(path, os.X_OK)), None)
