"""User input outside core, as InputError (exit 2): bounded file reading and checked names.

    text = read_text("policy.yaml", max_bytes=8 * MiB)     # "-" reads stdin
    region = checked(names.region, value, "--region")      # a core.names rule, raising InputError

Every reader of a user's file (policy files, snapshots, kubeconfig, tccli profiles) gets its text
from ``read_text``, so every problem is one InputError naming the file.
An empty path, a directory, a missing or unreadable file, more than ``max_bytes`` (read no further
than that, so /dev/zero or a huge file cannot exhaust memory) and text that is not UTF-8 (with the
line and column of the first bad byte) are each refused with what to do.
"""

from __future__ import annotations

import sys

from sgpctl.core.loading import MiB
from sgpctl.core.printable import quoted
from sgpctl.errors import InputError

__all__ = ["read_text", "checked", "MiB"]


def checked(rule, value, field: str):
    """``rule(value, field)`` (a ``sgpctl.core.names`` validator), its InvalidNameError as InputError."""
    from sgpctl.core.names import InvalidNameError

    try:
        return rule(value, field)
    except InvalidNameError as e:
        raise InputError(e.message, hint=e.hint) from None


def read_text(path: str, *, max_bytes: int, what: str = "file", hint: str | None = None, stdin=None) -> str:
    """The UTF-8 text of ``path`` (``-``: ``stdin``, the command's; the process's by default), at most
    ``max_bytes`` bytes; InputError otherwise. ``hint`` says where the path came from (shown when the
    path itself is wrong)."""
    shown = "<stdin>" if path == "-" else quoted(path)
    if path is None or path == "":
        raise InputError(f"the {what} name is empty", hint=hint or "give the path of a file, or - for stdin")
    try:
        if path == "-":
            data = _read_stdin(max_bytes, stdin if stdin is not None else sys.stdin)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {shown}", hint=hint or "check the path") from None
    except IsADirectoryError:
        raise InputError(f"{what} {shown} is a directory, not a file", hint=hint or "give the path of a file") from None
    except PermissionError:
        raise InputError(f"{what} {shown} cannot be read: permission denied", hint="check the file's permissions") from None
    except OSError as e:
        raise InputError(f"{what} {shown} cannot be read: {e.strerror or e}", hint=hint) from None
    if len(data) > max_bytes:
        limit = f"{max_bytes // MiB} MiB" if max_bytes >= MiB else f"{max_bytes} bytes"
        raise InputError(f"{what} {shown} is larger than the limit of {limit}",
                         hint="split it, or check that it is the file you meant")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InputError(f"{what} {shown} is not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}, column {column}",
                         hint="save it as UTF-8 (YAML and JSON files are UTF-8)") from None


def _read_stdin(max_bytes: int, stream) -> bytes:
    binary = getattr(stream, "buffer", None)
    if binary is not None:
        return binary.read(max_bytes + 1)
    text = stream.read(max_bytes + 1)
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
