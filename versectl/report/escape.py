"""Make text from servers, configs and users safe to print: no control character reaches a terminal.

One function for every such text (`printable`), and one guard on every console's file
(`TerminalGuard`) for what a renderer forgot: only the colour codes rich writes itself pass.
"""

from __future__ import annotations

import re
from typing import IO, Any

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 but tab and newline, DEL, C1, and the bidi overrides that reorder what a reader sees."""
_CONTROLS_ONE_LINE = re.compile(_CONTROLS.pattern[:-1] + "\t\n]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character shown as an escape (ESC as `\\x1b`, CR as `\\r`).

    `one_line`: newlines and tabs are escaped too (a header, a reason phrase, an error line).
    """
    return (_CONTROLS_ONE_LINE if one_line else _CONTROLS).sub(_shown, text)


class TerminalGuard:
    """A console's file: escapes every control sequence but rich's own SGR colour codes.

    rich leaves ESC inside Text as it is, so a config value or a server's header that reached
    a table without `printable` would otherwise set the terminal's title or clear it.
    """

    def __init__(self, inner: IO[str]) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        parts = _SGR.split(text)
        codes = _SGR.findall(text)
        safe = [
            printable(part) + (codes[i] if i < len(codes) else "") for i, part in enumerate(parts)
        ]
        self._inner.write("".join(safe))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
