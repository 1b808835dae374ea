"""Names the Kubernetes controllers give the objects they create, computed the way they do.

- ``pod-template-hash``: kube-controller-manager hashes the Pod template with FNV-32a (plus the
  Deployment's ``collisionCount``) and writes the decimal number in the "safe" alphabet of
  ``k8s.io/apimachinery/pkg/util/rand.SafeEncodeString`` (no vowels, no 0/1/3, so a hash never
  spells a word). The input here is the template's canonical JSON rather than Go's spew dump, so
  the values differ from a real cluster's but have the same shape and stability.
- Pod names of ReplicaSets and DaemonSets: ``<owner>-`` plus five characters of that alphabet
  (``generateName``); drawn from the sandbox's seeded random source so runs are reproducible.
"""

from __future__ import annotations

import json
import random
from typing import Any

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
#: kube-apiserver truncates generateName prefixes so the name stays within 63 characters
MAX_GENERATE_PREFIX = 58


def fnv32a(data: bytes) -> int:
    h = _FNV_OFFSET
    for b in data:
        h ^= b
        h = (h * _FNV_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in text)


def template_hash(template: Any, collision_count: int | None = None) -> str:
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += str(int(collision_count)).encode()
    return safe_encode(str(fnv32a(data)))


def random_suffix(rng: random.Random, length: int = 5) -> str:
    return "".join(rng.choice(SAFE_ALPHABET) for _ in range(length))


def generated_name(prefix: str, rng: random.Random) -> str:
    """``prefix`` (already ending in ``-``) plus five random characters, as ``generateName`` does."""
    return prefix[:MAX_GENERATE_PREFIX] + random_suffix(rng)
