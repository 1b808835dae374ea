"""The capture file: what ``sgpctl capture`` writes and ``sandbox up --from-capture``, ``policy explain
--snapshot`` and ``capacity --snapshot`` read. Pure: the format, the removal of secrets, and the hashing of
names (``--redact-names``); the reading of the cluster and the cloud is ``workflows.capture``.

One JSON object, ``formatVersion`` 1::

    kind           "SgpctlCapture"
    formatVersion  1
    sgpctlVersion  the version that wrote it
    capturedAt     UTC, ISO 8601
    scope          {"clusterId", "region", "namespace"}      (namespace null: every namespace)
    redaction      {"namesHashed": bool, "removed": [what was taken out, one line each]}
    cloud          [{"service", "action", "params", "response"}                 in the order they were made;
                    or {"service", "action", "params", "error": {"code", "message"}}]
    kubernetes     {"version": GET /version, "objects": [every object, as the API listed it],
                    "access": [{"verb", "resource", "namespace", "status", "reason"?, "message"?}]
                               (how a read that may be refused was answered: the writer Leases),
                    "errors": [a read that failed, one line each]}

Cloud answers are the responses as the SDK decoded them (every field of the response model); Kubernetes
objects are as listed, with ``kind`` and ``apiVersion``. What never enters: credentials, tokens, Secret
objects, ``metadata.managedFields``, the ``kubectl.kubernetes.io/last-applied-configuration``
annotation, ConfigMap ``binaryData``, and the values of what looks secret (:func:`looks_secret`): a
container's env value or ``--flag=value`` argument, a ConfigMap line, an annotation, an add-on value,
a field of a cloud answer. User info in URLs is masked (``core.redact``).

Names (:func:`redact_names`): the namespaces other than ``default`` and the system ones, and the name of
every object in them (but the ``default`` ServiceAccount and the ``kubernetes`` Service), become ``h``,
the name's rank in their sorted order and 6 hex digits of a salted SHA-256 (``h0003a1b2c3``): the same
name gives the same hash everywhere in the file, in references (owners, service accounts, VpcENI labels,
events) and in any label value or text of those objects (and of the nodes, the namespaces and the
VpcENIs) that equals the name, so selectors still select what they selected, and the hashes sort as the
names did (policies combine their groups in name order).
The cluster's name and the names and descriptions of ENIs (which carry ``namespace/pod``) go the same way.
The salt is random per capture and not kept: a hash cannot be checked against a guessed name.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import pickle
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sgpctl.core.redact import redact_url_credentials

KIND = "SgpctlCapture"
FORMAT_VERSION = 1
REDACTED = "<redacted>"
SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
#: namespaces whose names are kept (their objects' names are hashed, but for the system namespaces)
KEPT_NAMESPACES = ("default", *SYSTEM_NAMESPACES)
#: object names that are the platform's, not the user's
KEPT_NAMES = ("default", "kubernetes")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

REMOVED = (
    "Secret objects (never read)",
    "metadata.managedFields and the kubectl.kubernetes.io/last-applied-configuration annotation",
    "ConfigMap binaryData; the value of each ConfigMap line whose key looks secret",
    "the values of container env entries and --flag=value arguments whose names look secret",
    "annotation values whose keys look secret",
    "add-on values and cloud answer fields whose keys look secret",
    "user info in URLs",
)

_SECRET_WORDS = ("secret", "password", "passwd", "passphrase", "token", "credential", "privatekey", "accesskey",
                 "apikey", "clientkey", "keydata", "certificatedata", "sessionkey", "authorization", "bearer",
                 "signature")
_SECRET_NAMES = ("key", "auth", "pwd", "pass", "cookie")


def looks_secret(name: Any) -> bool:
    """Whether a key, variable or flag name says its value is a secret (``DB_PASSWORD``, ``apiToken``,
    ``--client-key``, ``SecretKey``)."""
    return _looks_secret(str(name))


@functools.lru_cache(maxsize=4096)
def _looks_secret(name: str) -> bool:
    n = re.sub(r"[^a-z0-9]", "", name.lower())
    return n in _SECRET_NAMES or any(w in n for w in _SECRET_WORDS)


# --------------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------------

def scrub_tree(value: Any, *, secret: bool = False) -> Any:
    """A copy of plain data with every non-empty string under a key that looks secret replaced by
    ``REDACTED`` (numbers and booleans are no secrets) and URL user info masked everywhere."""
    if isinstance(value, dict):
        return {k: scrub_tree(v, secret=secret or looks_secret(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_tree(v, secret=secret) for v in value]
    if isinstance(value, str):
        if secret and value:
            return REDACTED
        return redact_url_credentials(value)
    return value


_LINE_SECRET = re.compile(r"(?im)^([ \t-]*[\"']?([A-Za-z0-9_.-]+)[\"']?[ \t]*[:=][ \t]*)(\S.*)$")


def scrub_text(text: str) -> str:
    """A configuration text (a ConfigMap value) with the value of each ``key: value`` or ``key=value``
    line whose key looks secret replaced."""
    def line(m: re.Match) -> str:
        return m.group(1) + REDACTED if looks_secret(m.group(2)) else m.group(0)

    return redact_url_credentials(_LINE_SECRET.sub(line, text))


def scrub_json_text(text: Any) -> Any:
    """A JSON document held in a string (add-on ``Values``): parsed, scrubbed, written back."""
    if not isinstance(text, str) or not text.strip():
        return text
    try:
        doc = json.loads(text)
    except ValueError:
        return scrub_text(text)
    return json.dumps(scrub_tree(doc), separators=(",", ":"), ensure_ascii=False)


def scrub_base64_json(raw: Any) -> Any:
    """Base64 of a JSON document (DescribeAddon ``RawValues``): decoded, scrubbed, encoded again."""
    if not isinstance(raw, str) or not raw:
        return raw
    try:
        doc = json.loads(base64.b64decode(raw, validate=False).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return REDACTED
    return base64.b64encode(json.dumps(scrub_tree(doc), separators=(",", ":")).encode()).decode()


#: fields of cloud answers that hold a JSON document (or base64 of one) to scrub inside
_JSON_FIELDS = {"Values": scrub_json_text, "DefaultValues": scrub_json_text, "RawValues": scrub_base64_json}


def scrub_cloud_answer(value: Any) -> Any:
    """A cloud answer without its secrets: fields that look secret, and secrets inside add-on values."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _JSON_FIELDS:
                out[k] = _JSON_FIELDS[k](v)
            elif looks_secret(k):
                out[k] = scrub_tree(v, secret=True)
            else:
                out[k] = scrub_cloud_answer(v)
        return out
    if isinstance(value, list):
        return [scrub_cloud_answer(v) for v in value]
    if isinstance(value, str):
        return redact_url_credentials(value)
    return value


def _scrub_args(args: Any) -> Any:
    if not isinstance(args, list):
        return args
    out, hide_next = [], False
    for a in args:
        if not isinstance(a, str):
            out.append(a)
            hide_next = False
            continue
        if hide_next and not a.startswith("-"):
            out.append(REDACTED)
            hide_next = False
            continue
        hide_next = False
        flag, eq, _ = a.partition("=")
        if a.startswith("-") and looks_secret(flag.lstrip("-")):
            if eq:
                out.append(f"{flag}={REDACTED}")
                continue
            hide_next = True
        out.append(redact_url_credentials(a))
    return out


def _scrub_container(c: Any) -> None:
    if not isinstance(c, dict):
        return
    for key in ("args", "command"):
        if key in c:
            c[key] = _scrub_args(c[key])
    for e in c.get("env") or ():
        if isinstance(e, dict) and isinstance(e.get("value"), str):
            e["value"] = REDACTED if looks_secret(e.get("name")) and e["value"] else redact_url_credentials(e["value"])


def _pod_specs(obj: dict) -> Iterator[dict]:
    """The Pod specs an object carries: a Pod's, a workload's template, a CronJob's job template's."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    if obj.get("kind") == "Pod":
        yield spec
        return
    for holder in (spec, (spec.get("jobTemplate") or {}).get("spec") if isinstance(spec.get("jobTemplate"), dict) else None):
        template = holder.get("template") if isinstance(holder, dict) else None
        if isinstance(template, dict) and isinstance(template.get("spec"), dict):
            yield template["spec"]


def scrub_object(obj: dict) -> dict | None:
    """A Kubernetes object as it may enter a capture (a copy), or None for what never may (a Secret)."""
    if not isinstance(obj, dict) or obj.get("kind") == "Secret":
        return None
    obj = pickle.loads(pickle.dumps(obj, pickle.HIGHEST_PROTOCOL))
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(LAST_APPLIED, None)
            for k, v in list(annotations.items()):
                if isinstance(v, str):
                    annotations[k] = REDACTED if looks_secret(k.rsplit("/", 1)[-1]) and v else redact_url_credentials(v)
    for spec in _pod_specs(obj):
        for key in ("containers", "initContainers", "ephemeralContainers"):
            for c in spec.get(key) or ():
                _scrub_container(c)
    if obj.get("kind") == "ConfigMap":
        obj.pop("binaryData", None)
        data = obj.get("data")
        if isinstance(data, dict):
            obj["data"] = {k: (REDACTED if looks_secret(k) and v else scrub_text(v)) if isinstance(v, str) else v
                           for k, v in data.items()}
    if obj.get("kind") == "Event" and isinstance(obj.get("message"), str):
        obj["message"] = redact_url_credentials(obj["message"])
    return obj


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------

def hash_name(name: str, salt: str, length: int = 11) -> str:
    """``h`` + ``length`` hex digits of SHA-256 over a salt and the name: a DNS-1035 label, so valid as
    any Kubernetes name."""
    return "h" + hashlib.sha256(f"{salt}\0{name}".encode()).hexdigest()[:length]


def hashed_names(names: Iterable[str], salt: str) -> dict[str, str]:
    """Each name -> ``h`` + its rank among ``names`` (zero-padded) + 6 hex digits of its salted hash. The
    hashes sort as the names do: several policies that select a Pod give it their groups in policy-name
    order, and a replay must give the same order."""
    ordered = sorted(set(names))
    width = max(4, len(str(len(ordered))))
    return {n: f"h{rank:0{width}d}{hash_name(n, salt, 6)[1:]}" for rank, n in enumerate(ordered)}


def _meta(obj: dict) -> dict:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _user_namespace(ns: Any) -> bool:
    return isinstance(ns, str) and bool(ns) and ns not in SYSTEM_NAMESPACES


def user_names(objects: Iterable[dict]) -> tuple[set[str], set[str]]:
    """(namespaces, object names) that ``redact_names`` hashes: the user's, not the platform's."""
    namespaces: set[str] = set()
    names: set[str] = set()
    for obj in objects:
        meta = _meta(obj)
        ns, name = meta.get("namespace"), meta.get("name")
        if obj.get("kind") == "Namespace" and isinstance(name, str) and name not in KEPT_NAMESPACES:
            namespaces.add(name)
        if _user_namespace(ns):
            if ns not in KEPT_NAMESPACES:
                namespaces.add(ns)
            if isinstance(name, str) and name and name not in KEPT_NAMES:
                names.add(name)
    return namespaces, names


#: a name-like run: what Kubernetes names are made of
_RUN = re.compile(r"[a-z0-9][a-z0-9.-]*")
#: keys whose values are never names (and must not change)
_NOT_NAMES = {"apiVersion", "kind", "uid", "resourceVersion", "generation", "podUID", "image", "imageID",
              "containerID", "providerID"}


def _replace_runs(text: str, table: dict[str, str]) -> str:
    return _RUN.sub(lambda m: table.get(m.group(0), m.group(0)), text)


def _rewrite(value: Any, table: dict[str, str], key: str = "") -> Any:
    """Every string of ``value`` (not the keys) with each name-like run that is a hashed name replaced."""
    if isinstance(value, dict):
        return {k: (v if k in _NOT_NAMES or k.endswith(("Timestamp", "Time")) else _rewrite(v, table, k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, table, key) for v in value]
    if isinstance(value, str):
        return _replace_runs(value, table)
    return value


def _hash_generate_name(meta: dict, table: dict[str, str]) -> None:
    gen = meta.get("generateName")
    if isinstance(gen, str) and gen:
        base = gen[:-1] if gen.endswith("-") else gen
        if base in table:
            meta["generateName"] = table[base] + gen[len(base):]
        else:
            meta.pop("generateName")


def redact_names(doc: dict, salt: str) -> dict:
    """The capture with the user's names hashed (see the module's docstring). ``salt`` should be random."""
    kube = doc.get("kubernetes") or {}
    objects = [o for o in kube.get("objects") or [] if isinstance(o, dict)]
    namespaces, names = user_names(objects)
    table = hashed_names(namespaces | names, salt)
    out = dict(doc)
    new_objects = []
    for obj in objects:
        meta = _meta(obj)
        kind = obj.get("kind")
        ns = meta.get("namespace")
        # Nodes too: a node label that equals a name (a pool named after a team's namespace) must still
        # match the nodeSelectors and affinities of the Pods, which are rewritten.
        if _user_namespace(ns) or kind in ("Namespace", "Node") or str(kind).lower() == "vpceni":
            obj = _rewrite(obj, table)
            meta = _meta(obj)
            _hash_generate_name(meta, table)
        new_objects.append(obj)
    access = [{**x, "namespace": table.get(x.get("namespace"), x.get("namespace"))} if isinstance(x, dict) else x
              for x in kube.get("access") or ()]
    out["kubernetes"] = {**kube, "objects": new_objects, "access": access}
    out["cloud"] = [_redact_call_names(c, table, lambda name: hash_name(name, salt)) for c in doc.get("cloud") or []]
    scope = dict(doc.get("scope") or {})
    if isinstance(scope.get("namespace"), str):
        scope["namespace"] = table.get(scope["namespace"], scope["namespace"])
    out["scope"] = scope
    out["redaction"] = {**(doc.get("redaction") or {}), "namesHashed": True}
    return out


_ENI_TEXT = ("NetworkInterfaceName", "NetworkInterfaceDescription")
_CLUSTER_TEXT = ("ClusterName", "ClusterDescription")


def _redact_call_names(call: dict, table: dict[str, str], hasher: Callable[[str], str]) -> dict:
    response = call.get("response")
    if not isinstance(response, dict):
        return call
    response = json.loads(json.dumps(response))
    for eni in response.get("NetworkInterfaceSet") or ():
        if isinstance(eni, dict):
            for k in _ENI_TEXT:
                if isinstance(eni.get(k), str):
                    eni[k] = _replace_runs(eni[k], table)
    for cluster in response.get("Clusters") or ():
        if isinstance(cluster, dict):
            for k in _CLUSTER_TEXT:
                if isinstance(cluster.get(k), str) and cluster[k]:
                    cluster[k] = hasher(cluster[k])
    return {**call, "response": response}


# --------------------------------------------------------------------------------------------------
# Reading one
# --------------------------------------------------------------------------------------------------

def is_capture(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == KIND


def capture_problem(doc: Any) -> str | None:
    """What makes ``doc`` unusable as a capture, or None."""
    if not is_capture(doc):
        return f"not a capture (its kind is not {KIND})"
    version = doc.get("formatVersion")
    if version != FORMAT_VERSION:
        return f"capture format version {version!r} is not supported (this sgpctl reads {FORMAT_VERSION})"
    if not isinstance(doc.get("cloud"), list):
        return "the capture has no cloud answers (\"cloud\" is not a list)"
    kube = doc.get("kubernetes")
    if not isinstance(kube, dict) or not isinstance(kube.get("objects"), list):
        return "the capture has no Kubernetes objects (\"kubernetes.objects\" is not a list)"
    scope = doc.get("scope")
    if not isinstance(scope, dict) or not scope.get("clusterId") or not scope.get("region"):
        return "the capture names no cluster (\"scope.clusterId\" and \"scope.region\")"
    return None


def call_key(service: str, action: str, params: Any) -> str:
    """How a recorded call is looked up: the same request gives the same key."""
    return json.dumps([service, action, params or {}], sort_keys=True, separators=(",", ":"))


def answers(doc: dict, service: str, action: str) -> list[tuple[dict, dict]]:
    """(params, response) of each successful recorded call of one action, in order."""
    return [(c.get("params") or {}, c["response"]) for c in doc.get("cloud") or ()
            if isinstance(c, dict) and c.get("service") == service and c.get("action") == action
            and isinstance(c.get("response"), dict)]


def errors(doc: dict, service: str, action: str) -> list[tuple[dict, dict]]:
    """(params, error) of each recorded call of one action that failed."""
    return [(c.get("params") or {}, c["error"]) for c in doc.get("cloud") or ()
            if isinstance(c, dict) and c.get("service") == service and c.get("action") == action
            and isinstance(c.get("error"), dict)]
