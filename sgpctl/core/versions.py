"""Add-on version strings as TKE reports them: "3.5.6", "v3.5.6", "3.5.6-tke.1", "v1.2.3-rc.1"."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+.](.*))?$")

#: eniipamd supports Trunking ENI from this version on (the TKE document)
MIN_ENIIPAMD_FOR_TRUNKING = (3, 5, 6)


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch), or None when the text is not a version. A pre-release or build
    suffix is ignored: TKE's ``-tke.N`` suffixes mark builds of the same release."""
    if not text:
        return None
    m = _VERSION.match(text.strip())
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


def format_version(v: tuple[int, int, int]) -> str:
    return ".".join(str(x) for x in v)


def at_least(text: str | None, minimum: tuple[int, int, int]) -> bool | None:
    """True/False, or None when ``text`` is not a version at all."""
    v = parse_version(text)
    return None if v is None else v >= minimum


def image_tag(image: str | None) -> str | None:
    """The tag of a container image reference (``registry:5000/repo/name:v3.5.6`` -> ``v3.5.6``)."""
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
