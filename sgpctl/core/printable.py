"""Text that came from outside (file keys, names, API messages) made safe to echo on one line.

A key such as ``"\\n"`` or a name holding ``ESC [2J`` must not break a one-line error into two, nor
drive the terminal: every character ``str.isprintable`` rejects (controls, line and paragraph
separators, format characters such as bidi overrides, unassigned code points) is shown as a Python
escape instead.
"""

from __future__ import annotations

import re

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_WHITESPACE_RUN = re.compile(r"\s*[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]\s*")

__all__ = ["printable", "one_line", "quoted"]


def _escape(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (``"a\\nb"`` -> ``a\\nb``); spaces stay."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in text)


def quoted(value: object) -> str:
    """A user-supplied value for a message: single-quoted, escaped, and cut to a readable length."""
    text = printable(str(value))
    if len(text) > 120:
        text = text[:117] + "..."
    return f"'{text}'"


def one_line(text: str) -> str:
    """A message (ours or an API's) as one line: line breaks and the blanks around them become one
    space, other non-printable characters are escaped."""
    return printable(_WHITESPACE_RUN.sub(" ", text).strip())
