"""The known-good nginx configuration shipped with versectl, as package data.

`api_location.conf` is the /api location block; `nginx-verse.conf` a complete site around it.
"""

from __future__ import annotations

from importlib import resources

API_LOCATION = "api_location.conf"
SITE = "nginx-verse.conf"


def read_template(name: str) -> str:
    """The text of a template shipped in this package (`API_LOCATION` or `SITE`)."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def api_location() -> str:
    """The known-good /api location block, with its explanatory comments."""
    return read_template(API_LOCATION)


def site() -> str:
    """The complete site file: frontend on /, the known-good /api block."""
    return read_template(SITE)
