"""Config files for the fix tests: the seed's broken site, and a private nginx config tree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"
_TEMPS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def seed_site(port: int | str = 8080) -> str:
    """The user's site file before the seed's fix: port 8000, no buffering directives, read
    timeout 90, with a redirect server, a frontend and an assets location around it."""
    return (DATA / "seed_site.conf").read_text().replace("@PORT@", str(port))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Tree:
    """A Debian-like config tree: nginx.conf includes sites-enabled/* (relative)."""

    root: Path
    main: Path
    site: Path


def config_tree(base: Path, site_text: str, *, symlinked: bool = False) -> Tree:
    """nginx.conf + sites-enabled/verse (or sites-available/verse and a relative symlink).

    Everything nginx -t touches (pid, logs, temp dirs) is private to `base`."""
    root = base / "nginx"
    for name in _TEMPS:
        (root / "tmp" / name).mkdir(parents=True, exist_ok=True)
    (root / "sites-enabled").mkdir(exist_ok=True)
    (root / "sites-available").mkdir(exist_ok=True)
    temps = "".join(f"    {name}_temp_path {root}/tmp/{name};\n" for name in _TEMPS)
    main = root / "nginx.conf"
    main.write_text(
        f"pid {root}/nginx.pid;\n"
        f"error_log {root}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"{temps}"
        "    access_log off;\n"
        "    include sites-enabled/*;\n"
        "}\n"
    )
    if symlinked:
        site = root / "sites-enabled" / "verse"
        (root / "sites-available" / "verse").write_text(site_text)
        site.symlink_to("../sites-available/verse")
    else:
        site = root / "sites-enabled" / "verse"
        site.write_text(site_text)
    return Tree(root, main, site)


def shared_snippet_tree(base: Path, snippet_text: str, names: tuple[str, str]) -> tuple[Tree, Path]:
    """A config tree whose two servers (`names`, one port) include the same snippet file,
    snippets/api.conf holding `snippet_text`: the tree and the snippet's path."""
    servers = "".join(
        f"server {{\n    listen 127.0.0.1:8081;\n    server_name {name};\n"
        "    include snippets/api.conf;\n}\n"
        for name in names
    )
    tree = config_tree(base, servers)
    (tree.root / "snippets").mkdir()
    snippet = tree.root / "snippets" / "api.conf"
    snippet.write_text(snippet_text)
    return tree, snippet
