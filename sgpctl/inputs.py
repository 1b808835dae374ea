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

__all__ = ["read_text", "checked", "expand_paths", "MANIFEST_EXTENSIONS", "MiB"]

#: the files a directory given to -f contributes, as kubectl reads them
MANIFEST_EXTENSIONS = (".yaml", ".yml", ".json")


def checked(rule, value, field: str):
    """``rule(value, field)`` (a ``sgpctl.core.names`` validator), its InvalidNameError as InputError."""
    from sgpctl.core.names import InvalidNameError

    try:
        return rule(value, field)
    except InvalidNameError as e:
        raise InputError(e.message, hint=e.hint) from None


def expand_paths(paths: list[str], *, recursive: bool = False, option: str = "-f") -> list[str]:
    """The files behind repeated ``-f`` values, as kubectl reads them: a file as given, ``-`` (stdin,
    once), a directory's ``*.yaml``, ``*.yml`` and ``*.json`` files in name order (its subdirectories'
    too with ``-R``). Nothing is dropped silently: a path that does not exist, a directory without
    such files, or ``-`` twice is an InputError."""
    import os

    out: list[str] = []
    if not paths:
        raise InputError(f"no file given to {option}", hint=f"{option} FILE, {option} DIR or {option} - for stdin")
    if paths.count("-") > 1:
        raise InputError(f"{option} - given twice: stdin can be read once", hint=f"give {option} - once")
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            out.append(path)  # read_text reports a missing or unreadable file
            continue
        found: list[str] = []
        if recursive:
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(MANIFEST_EXTENSIONS)]
        else:
            found = [os.path.join(path, f) for f in sorted(os.listdir(path))
                     if f.endswith(MANIFEST_EXTENSIONS) and os.path.isfile(os.path.join(path, f))]
        if not found:
            deeper = "" if recursive else " (-R reads its subdirectories too)"
            raise InputError(f"directory {quoted(path)} holds no .yaml, .yml or .json file{deeper}",
                             hint=f"give {option} a file or a directory of manifests")
        out += found
    return out


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
