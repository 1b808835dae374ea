"""Secrets out of what sgpctl shows: the one place that masks them.

- :func:`mask` hides a secret value the way tccli shows it (``AKID****``).
- :func:`redact_url_credentials` hides the user info of every URL in a text
  (``http://user:KEY@host`` -> ``http://***@host``), whoever wrote the URL: an ``--endpoint`` the user
  typed, a kubeconfig's server, a transport error, a debug log line. Every message and log line sgpctl
  prints goes through it (``sgpctl.cli.errors``); adapters use it where they build a message.
"""

from __future__ import annotations

import re

__all__ = ["mask", "redact_url_credentials"]

# scheme://userinfo@ : the user info runs to the last "@" before the path, query, fragment or a blank
_SCHEME_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#]*@")
# user:password@host without a scheme (what urlsplit would call a scheme and a path)
_BARE_USERINFO = re.compile(r"(?<![^\s'\"(=,;])[^\s/?#'\"=@:]+:[^\s/?#]*@")


def mask(value: str | None, keep: int = 4) -> str:
    """Mask a secret the way tccli shows it: a few leading characters, the rest starred."""
    if not value:
        return ""
    if keep <= 0 or len(value) <= keep * 2:
        return "*" * 8
    return value[:keep] + "*" * (len(value) - keep)


def redact_url_credentials(text: str) -> str:
    """``text`` with the user info of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    text = _SCHEME_USERINFO.sub(r"\1***@", text)
    return _BARE_USERINFO.sub("***@", text)
