"""The exception hierarchy of versectl; the command edge maps each to a message and exit 2.

VersectlError                 anything the user should see as one clear line, never a traceback
├── InputError                bad input: usage, missing or unreadable file      kind "input"
│   ├── ConfigLoadError       a config file or directory cannot be read          kind "config_load"
│   └── ConfigParseError      a config does not parse (carries file and line)    kind "config_parse"
├── ProbeError                the probe could not get an event stream            kind: its own
└── FixError                  a fix could not be applied; the original was kept  kind "fix"

`kind` is the `error.kind` of the JSON error document (`--format json`, see versectl.cli).
"""

from __future__ import annotations


class VersectlError(Exception):
    """Base class: the message is written for the user."""

    kind = "error"


class InputError(VersectlError):
    """Usage errors and unreadable input."""

    kind = "input"


class ConfigLoadError(InputError):
    """A configuration file or directory cannot be read."""

    kind = "config_load"


class ConfigParseError(InputError):
    """A configuration does not parse; `file` and `line` say where."""

    kind = "config_parse"

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{message}")


class ProbeError(VersectlError):
    """The probe failed before or while reading the stream.

    `kind` is one of connect, tls, http, not_sse, timeout, protocol (CONTRACT.md).
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind  # an instance attribute: one of the contract's kinds, per failure
        super().__init__(message)


class FixError(VersectlError):
    """A fix could not be applied; the original file is untouched."""

    kind = "fix"
