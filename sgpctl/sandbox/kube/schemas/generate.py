"""Write ``builtin.json.gz``: OpenAPI v2 definitions of every built-in kind the sandbox serves, and of
every type they reach, made from the installed ``kubernetes`` client's models.

The client's generated models keep, per field: the JSON name (``attribute_map``), the type
(``openapi_types`` and the pydantic annotation, which tells int-or-string apart from a raw object),
whether it is required, and its description. They lose three things that the definitions restore:

- ``resource.Quantity`` fields become plain strings; the API server also takes numbers there and
  canonicalises them, so ``QUANTITY_FIELDS`` names them (from k8s.io/api's Go types);
- int32 and int64 are one ``int``; ``INT64_FIELDS`` names the int64 ones (only error texts use it);
- type names lose their Go package; definitions are named ``io.k8s.api.<version>.<Name>``;
- a field whose type is a model has no description of its own; it gets the model's.

Usage: ``python -m sgpctl.sandbox.kube.schemas.generate [OUT]`` (default: next to this file).
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import typing
from pathlib import Path

OUT = Path(__file__).with_name("builtin.json.gz")

#: (model class, attribute) whose Go type is resource.Quantity (maps: map[ResourceName]Quantity)
QUANTITY_FIELDS = {
    ("V1ResourceRequirements", "limits"), ("V1ResourceRequirements", "requests"),
    ("V1VolumeResourceRequirements", "limits"), ("V1VolumeResourceRequirements", "requests"),
    ("V1PodSpec", "overhead"), ("V1ContainerStatus", "allocated_resources"), ("V1PodStatus", "allocated_resources"),
    ("V1NodeStatus", "allocatable"), ("V1NodeStatus", "capacity"), ("V1PersistentVolumeSpec", "capacity"),
    ("V1PersistentVolumeClaimStatus", "capacity"), ("V1PersistentVolumeClaimStatus", "allocated_resources"),
    ("V1ResourceQuotaSpec", "hard"), ("V1ResourceQuotaStatus", "hard"), ("V1ResourceQuotaStatus", "used"),
    ("V1LimitRangeItem", "default"), ("V1LimitRangeItem", "default_request"), ("V1LimitRangeItem", "max"),
    ("V1LimitRangeItem", "min"), ("V1LimitRangeItem", "max_limit_request_ratio"),
    ("V1EmptyDirVolumeSource", "size_limit"), ("V1ResourceFieldSelector", "divisor"),
    ("V2MetricTarget", "value"), ("V2MetricTarget", "average_value"),
    ("V2MetricValueStatus", "value"), ("V2MetricValueStatus", "average_value"),
}
#: JSON field names whose Go type is int64 (every other integer is int32)
INT64_FIELDS = {
    "generation", "observedGeneration", "deletionGracePeriodSeconds", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "runAsUser", "runAsGroup", "fsGroup", "supplementalGroups", "expirationSeconds",
    "startingDeadlineSeconds", "tolerationSeconds", "gracePeriodSeconds", "revision",
}
#: kinds served besides the stored resources' (subresource and review bodies)
EXTRA_KINDS = (("authentication.k8s.io", "v1", "TokenRequest"), ("autoscaling", "v1", "Scale"),
               ("", "v1", "Status"), ("", "v1", "Binding"))

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_NAME = re.compile(r"^((?:[A-Z][a-z]+)*?)(V\d+(?:alpha\d+|beta\d+)?)([A-Z].*)$")
_SPECIAL = {
    QUANTITY: {"type": "string", "format": "quantity",
               "description": "Quantity is a fixed-point representation of a number: 128974848, 129e6, 129M, "
                              "123Mi, 500m. JSON numbers are accepted too; the server stores the canonical form."},
    INT_OR_STRING: {"type": "string", "format": "int-or-string",
                    "description": "IntOrString is a type that can hold an int32 or a string."},
}


def definition_name(cls_name: str) -> str:
    m = _NAME.match(cls_name)
    if not m:
        raise ValueError(f"unexpected model name {cls_name}")
    return f"io.k8s.api.{(m.group(1) + m.group(2)).lower()}.{m.group(3)}"


def _description(cls: type) -> str:
    doc = (cls.__doc__ or "").split("Attributes:")[0]
    return " ".join(doc.split())


def _is_int_or_string(annotation: typing.Any) -> bool:
    args = {a for a in typing.get_args(annotation)}
    flat = set()
    for a in args:
        flat.add(typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a)
    return {int, str} <= flat


class Generator:
    def __init__(self, models: typing.Any):
        self.models = models
        self.definitions: dict[str, dict] = {}

    def kind(self, group: str, version: str, kind: str) -> str:
        ver = version[0].upper() + version[1:]
        prefix = "".join(p.capitalize() for p in (group.split(".")[0] if group else "core").split("-"))
        for cls_name in (f"{ver}{kind}", f"{prefix}{ver}{kind}"):
            cls = getattr(self.models, cls_name, None)
            if cls is not None and getattr(cls, "openapi_types", None) is not None:
                name = self.model(cls_name)
                self.definitions[name]["x-kubernetes-group-version-kind"] = [
                    {"group": group, "kind": kind, "version": version}]
                return name
        raise LookupError(f"the kubernetes client has no model for {group}/{version} {kind}")

    def model(self, cls_name: str) -> str:
        name = definition_name(cls_name)
        if name in self.definitions:
            return name
        cls = getattr(self.models, cls_name)
        schema: dict = {"description": _description(cls), "type": "object", "properties": {}}
        self.definitions[name] = schema
        required = []
        fields = cls.model_fields
        for attr, type_text in cls.openapi_types.items():
            json_name = cls.attribute_map[attr]
            info = fields.get(attr)
            if (cls_name, attr) in QUANTITY_FIELDS:
                prop = self._quantity(type_text)
            else:
                prop = self._type(type_text, json_name, info.annotation if info is not None else None)
            description = info.description if info is not None else None
            if not description and "$ref" in prop:
                # The generator drops descriptions of fields whose type is a model: use the model's own.
                description = self.definitions.get(prop["$ref"].rsplit("/", 1)[-1], {}).get("description")
            if description:
                prop = {"description": " ".join(description.split()), **prop}
            schema["properties"][json_name] = prop
            if info is not None and info.is_required():
                required.append(json_name)
        if required:
            schema["required"] = required
        return name

    @staticmethod
    def _quantity(type_text: str) -> dict:
        ref = {"$ref": f"#/definitions/{QUANTITY}"}
        return {"type": "object", "additionalProperties": ref} if type_text.startswith("Dict[") else ref

    def _type(self, text: str, json_name: str, annotation: typing.Any) -> dict:
        text = text.strip()
        if text.startswith("List[") and text.endswith("]"):
            return {"type": "array", "items": self._type(text[5:-1], json_name, None)}
        if text.startswith("Dict[str, ") and text.endswith("]"):
            return {"type": "object", "additionalProperties": self._type(text[10:-1], json_name, None)}
        if text == "str":
            return {"type": "string"}
        if text == "int":
            return {"type": "integer", "format": "int64" if json_name in INT64_FIELDS else "int32"}
        if text == "float":
            return {"type": "number", "format": "double"}
        if text == "bool":
            return {"type": "boolean"}
        if text == "datetime":
            return {"type": "string", "format": "date-time"}
        if text == "date":
            return {"type": "string", "format": "date"}
        if text in ("bytearray", "bytes"):
            return {"type": "string", "format": "byte"}
        if text == "object":
            if annotation is not None and _is_int_or_string(annotation):
                return {"$ref": f"#/definitions/{INT_OR_STRING}"}
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        return {"$ref": f"#/definitions/{self.model(text)}"}


def generate() -> dict:
    import kubernetes
    from kubernetes.client import models

    from sgpctl.sandbox.kube.resources import BUILTIN

    gen = Generator(models)
    kinds: dict[str, str] = {}
    wanted = [(rt.group, v, rt.kind) for rt in BUILTIN for v in rt.versions] + list(EXTRA_KINDS)
    for group, version, kind in wanted:
        kinds[f"{group}/{version}/{kind}"] = gen.kind(group, version, kind)
    definitions = dict(sorted(gen.definitions.items()))
    definitions.update(_SPECIAL)
    missing = {c for c, _ in QUANTITY_FIELDS} - {c for c in dir(models)}
    if missing:
        raise LookupError(f"QUANTITY_FIELDS names models the client lacks: {sorted(missing)}")
    return {"source": f"kubernetes python client {kubernetes.__version__}", "kinds": kinds,
            "definitions": dict(sorted(definitions.items()))}


def encode(doc: dict) -> bytes:
    """Deterministic bytes (no gzip timestamp), so the shipped file compares equal to a new run."""
    return gzip.compress(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), 9, mtime=0)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    doc = generate()
    out.write_bytes(encode(doc))
    print(f"{out}: {len(doc['definitions'])} definitions for {len(doc['kinds'])} kinds ({doc['source']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
