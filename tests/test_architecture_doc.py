"""docs/architecture.md names code: every dotted ``sgpctl.*`` name in it must import (a module) or
resolve (an attribute of one), so the document cannot describe code that no longer exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
NAMES = sorted(set(re.findall(r"\bsgpctl(?:\.[A-Za-z_][A-Za-z0-9_]*)+", DOC.read_text())))


def resolve(name: str):
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


def test_the_document_names_code():
    assert len(NAMES) > 30


@pytest.mark.parametrize("name", NAMES)
def test_every_named_thing_exists(name):
    assert resolve(name) is not None
