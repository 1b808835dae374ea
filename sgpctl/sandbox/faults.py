"""Fault injection for the sandbox's API endpoints, reproducible from a seed.

Both sandbox endpoints ask one shared :class:`Faults` object, before they handle a request,
whether to misbehave: ``fault = faults.decide(service, action)``. Every kind but ``lose-reply``
acts before the request runs; ``lose-reply`` lets it run (the change is made) and then closes the
connection without the answer, so the client cannot tell whether it took effect. The cloud endpoint passes the
TC3 service (``cam``, ``tke``, ``vpc``, ``cvm``) and the action (``DescribeAddon``); the
Kubernetes endpoint passes ``kube`` and its verb (``get``, ``list``, ``watch``, ``create``,
``update``, ``patch``, ``delete``).

Spec grammar (``--faults`` and ``PUT /_sandbox/faults``)::

    spec    := item (";" item)*            whitespace around items is ignored
    item    := "seed=" INT                 global; default 0
             | [scope ":"] kind "=" value ("," kind "=" value)*
    scope   := service | service "." action    (case-insensitive; no scope = every request;
                                                the service "cloud" means every service but kube)
    kind    := "throttle"   value is a share: answer a RequestLimitExceeded envelope (HTTP 200)
             | "5xx"        value is a share: answer HTTP 500 with a non-JSON body
             | "drop"       value is a share: close the connection without any answer
             | "lose-reply" value is a share: run the request, then close the connection
                            without its answer (logged with ``replyLost: true``)
             | "latency"    value is "<ms>ms" or "<min>-<max>ms": delay the answer
    share   := a number in [0, 1] ("0.25") or a percentage ("25%")

Examples: ``seed=7; vpc:throttle=0.3; tke.DescribeAddon:5xx=1; latency=2-10ms``,
``kube.list:drop=0.1``, ``cloud:throttle=0.3`` (the Tencent Cloud API only, not Kubernetes),
``tke.UpdateAddon:lose-reply=0.5; kube.create:lose-reply=1``.

When several rules of the same kind match a request, the most specific one wins
(``service.Action`` over ``service`` over unscoped). The error kinds are tried in the order
drop, 5xx, throttle, lose-reply; latency combines with any of them (``Fault.latency_ms``).

Determinism: every matching rule draws from one ``random.Random(seed)`` in a fixed order on
every call, whatever the outcome, so the same spec, seed and sequence of calls give the same
faults. ``set()`` restarts the random sequence.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

ERROR_KINDS: tuple[str, ...] = ("drop", "5xx", "throttle", "lose-reply")
#: the kinds that let the request run (the others answer instead of it)
AFTER_KINDS: frozenset[str] = frozenset({"lose-reply"})
KINDS: tuple[str, ...] = ERROR_KINDS + ("latency",)

_SCOPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$")
_LATENCY = re.compile(r"^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?ms$")


@dataclass(frozen=True)
class Fault:
    """What to do to one request.

    ``kind`` is one of ``drop``, ``5xx``, ``throttle``, ``lose-reply`` or ``latency`` (latency alone);
    ``value`` is the share of the rule that fired (the delay in ms for ``latency``);
    ``latency_ms`` is the delay to apply before answering (0 when none).
    """

    kind: str
    value: float
    latency_ms: float = 0.0

    @property
    def loses_reply(self) -> bool:
        """Run the request, then drop the connection instead of answering."""
        return self.kind in AFTER_KINDS


@dataclass(frozen=True)
class _Rule:
    service: str | None  # lower case; None = every service
    action: str | None  # lower case; None = every action
    kind: str
    share: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)
    scope: str = ""  # as written, for display

    @property
    def specificity(self) -> int:
        return (self.service is not None) + (self.action is not None)

    def matches(self, service: str, action: str) -> bool:
        if self.service == "cloud":
            service_ok = service != "kube"
        else:
            service_ok = self.service is None or self.service == service
        return service_ok and (self.action is None or self.action == action)

    def text(self) -> str:
        scope = f"{self.scope}:" if self.scope else ""
        if self.kind == "latency":
            lo, hi = self.latency
            return f"{scope}latency={_num(lo)}ms" if lo == hi else f"{scope}latency={_num(lo)}-{_num(hi)}ms"
        return f"{scope}{self.kind}={_num(self.share)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _parse_share(kind: str, value: str, item: str) -> float:
    text = value.strip()
    try:
        share = float(text[:-1]) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"fault {item!r}: {kind} needs a share like 0.25 or 25%, not {value!r}") from None
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"fault {item!r}: share {value!r} is outside [0, 1]")
    return share


def _parse_latency(value: str, item: str) -> tuple[float, float]:
    m = _LATENCY.match(value.strip())
    if not m:
        raise ValueError(f"fault {item!r}: latency needs '<ms>ms' or '<min>-<max>ms', not {value!r}")
    lo = float(m.group(1))
    hi = float(m.group(2)) if m.group(2) is not None else lo
    if hi < lo:
        raise ValueError(f"fault {item!r}: latency range {value!r} has min > max")
    return lo, hi


def _parse(spec: str) -> tuple[int, list[_Rule]]:
    seed = 0
    rules: list[_Rule] = []
    for raw in (spec or "").split(";"):
        item = raw.strip()
        if not item:
            continue
        if item.lower().startswith("seed="):
            try:
                seed = int(item.split("=", 1)[1].strip())
            except ValueError:
                raise ValueError(f"fault {item!r}: seed must be an integer") from None
            continue
        service = action = None
        scope = ""
        body = item
        head, sep, tail = item.partition(":")
        # A scope never contains '='; "latency=1-2ms" has no ':' so this only splits real scopes.
        if sep and "=" not in head:
            scope = head.strip()
            if not _SCOPE.match(scope):
                raise ValueError(f"fault {item!r}: bad scope {scope!r} (want service or service.Action)")
            service, _, act = scope.partition(".")
            service = service.lower()
            action = act.lower() or None
            body = tail
        parts = [p.strip() for p in body.split(",") if p.strip()]
        if not parts:
            raise ValueError(f"fault {item!r}: nothing after the scope")
        for part in parts:
            kind, eq, value = part.partition("=")
            kind = kind.strip().lower()
            if not eq:
                raise ValueError(f"fault {item!r}: {part!r} is not kind=value")
            if kind not in KINDS:
                raise ValueError(f"fault {item!r}: unknown kind {kind!r} (known: {', '.join(KINDS)})")
            if kind == "latency":
                rules.append(_Rule(service, action, kind, latency=_parse_latency(value, item), scope=scope))
            else:
                rules.append(_Rule(service, action, kind, share=_parse_share(kind, value, item), scope=scope))
    return seed, rules


class Faults:
    """A thread-safe, settable set of fault rules (see the module docstring for the grammar)."""

    def __init__(self, spec: str = ""):
        self._lock = threading.Lock()
        self._seed, self._rules = _parse(spec)
        self._rng = random.Random(self._seed)

    @classmethod
    def parse(cls, spec: str) -> "Faults":
        """Build from a spec string; raises ``ValueError`` naming the bad item."""
        return cls(spec)

    def set(self, spec: str) -> None:
        """Replace every rule (and the seed) and restart the random sequence."""
        seed, rules = _parse(spec)
        with self._lock:
            self._seed, self._rules = seed, rules
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._rules = []
            self._rng = random.Random(self._seed)

    @property
    def spec(self) -> str:
        """The current rules in canonical spec form (empty when there are none)."""
        with self._lock:
            if not self._rules:
                return ""
            return "; ".join([f"seed={self._seed}"] + [r.text() for r in self._rules])

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __repr__(self) -> str:
        return f"Faults({self.spec!r})"

    def decide(self, service: str, action: str) -> Fault | None:
        """What to do to this request, or None to answer it normally."""
        if not self._rules:
            return None
        svc, act = (service or "").lower(), (action or "").lower()
        with self._lock:
            best: dict[str, _Rule] = {}
            for rule in self._rules:
                if rule.matches(svc, act):
                    cur = best.get(rule.kind)
                    if cur is None or rule.specificity >= cur.specificity:
                        best[rule.kind] = rule
            if not best:
                return None
            latency_ms = 0.0
            lat = best.get("latency")
            if lat is not None:
                lo, hi = lat.latency
                latency_ms = self._rng.uniform(lo, hi) if hi > lo else lo
            fired: _Rule | None = None
            for kind in ERROR_KINDS:
                rule = best.get(kind)
                if rule is None:
                    continue
                # Draw for every matching rule so later calls see the same sequence whatever fired.
                hit = self._rng.random() < rule.share
                if hit and fired is None:
                    fired = rule
        if fired is not None:
            return Fault(fired.kind, fired.share, latency_ms)
        if lat is not None:
            return Fault("latency", latency_ms, latency_ms)
        return None
