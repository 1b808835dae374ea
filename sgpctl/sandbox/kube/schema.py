"""What the API server does with a request body before anything is stored: decoding against the
type's schema.

Built-in kinds (definitions shipped in ``schemas/builtin.json.gz``): a value of the wrong JSON type
is a 400 with Go's decoder message (``Deployment in version "v1" cannot be handled as a Deployment:
json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32``);
an unknown field is an error under ``fieldValidation=Strict`` (``strict decoding error: unknown field
"spec.replica"``), a warning under ``Warn`` (the default) and silently dropped under ``Ignore``; it
is never stored. ``null`` values are dropped, as decoding into Go structs drops them. Quantities
(``cpu: 0.5``, ``memory: 1024Mi``) are stored in canonical form.

Custom resources: a CRD's ``openAPIV3Schema`` is enforced as apiextensions does: unknown fields
pruned (or refused under Strict) unless ``x-kubernetes-preserve-unknown-fields``; types, required,
enum, bounds, lengths and patterns answered with 422 field errors.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import json
import re
from importlib import resources as _resources
from typing import Any

from sgpctl.core.selectors import type_name

from . import quantity
from .errors import ApiError

FIELD_VALIDATIONS = ("Strict", "Warn", "Ignore")


@functools.lru_cache(maxsize=1)
def builtin() -> dict:
    data = _resources.files(__package__).joinpath("schemas/builtin.json.gz").read_bytes()
    return json.loads(gzip.decompress(data))


def root_definition(group: str, version: str, kind: str) -> str | None:
    return builtin()["kinds"].get(f"{group}/{version}/{kind}")


def bad_field_validation(value: str | None) -> ApiError | None:
    if value in (None, "") or value in FIELD_VALIDATIONS:
        return None
    return ApiError(400, "BadRequest", f'fieldValidation parameter unsupported: "{value}"')


# ------------------------------------------------------------------------------------------------
# Built-in kinds: Go's decoder
# ------------------------------------------------------------------------------------------------


class _DecodeError(Exception):
    pass


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {json.dumps(value)}"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_type(schema: dict, defs: dict) -> str:
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        if name.endswith("Quantity"):
            return "resource.Quantity"
        if name.endswith("IntOrString"):
            return "intstr.IntOrString"
        parts = name.split(".")
        return f"{parts[-2].removeprefix('core').removeprefix('authentication')}.{parts[-1]}"
    t = schema.get("type")
    if t == "array":
        return "[]" + _go_type(schema.get("items") or {}, defs)
    if t == "object":
        extra = schema.get("additionalProperties")
        return f"map[string]{_go_type(extra, defs)}" if extra else "map[string]interface {}"
    if t == "integer":
        return schema.get("format") or "int32"
    if t == "number":
        return "float64"
    if t == "boolean":
        return "bool"
    if schema.get("format") == "byte":
        return "[]uint8"
    return "string"


class _Decoder:
    def __init__(self, defs: dict):
        self.defs = defs
        self.unknown: list[str] = []

    def definition(self, schema: dict) -> tuple[str, dict] | None:
        ref = schema.get("$ref")
        if not ref:
            return None
        name = ref.rsplit("/", 1)[-1]
        return name, self.defs[name]

    def value(self, value: Any, schema: dict, path: str, go_path: str, struct: str) -> Any:
        """The decoded value (nulls dropped, quantities canonical); unknown fields noted."""
        resolved = self.definition(schema)
        if resolved is not None:
            name, schema = resolved
            struct_name = name.rsplit(".", 1)[-1]
            if schema.get("format") == "quantity":
                return self.quantity(value, go_path, struct)
            if schema.get("format") == "int-or-string":
                if isinstance(value, bool) or not isinstance(value, (int, str)):
                    self.fail(value, go_path, struct, "intstr.IntOrString")
                return value
        else:
            struct_name = struct
        t = schema.get("type")
        if "properties" in schema:
            if not isinstance(value, dict):
                self.fail(value, go_path, struct, _go_type({"$ref": f"#/definitions/{resolved[0]}"}, self.defs)
                          if resolved else "struct")
            props = schema["properties"]
            out = {}
            for key, item in value.items():
                sub = f"{path}.{key}" if path else key
                prop = props.get(key)
                if prop is None:
                    self.unknown.append(sub)
                    continue
                if item is None:
                    continue
                out[key] = self.value(item, prop, sub, f"{go_path}.{key}" if go_path else key, struct_name)
            return out
        if t == "object":
            if not isinstance(value, dict):
                self.fail(value, go_path, struct, _go_type(schema, self.defs))
            extra = schema.get("additionalProperties")
            if not extra:
                return value
            return {k: self.value(v, extra, f"{path}.{k}", go_path, struct) for k, v in value.items() if v is not None}
        if t == "array":
            if not isinstance(value, list):
                self.fail(value, go_path, struct, _go_type(schema, self.defs))
            items = schema.get("items") or {}
            return [self.value(v, items, f"{path}[{i}]", go_path, struct) for i, v in enumerate(value) if v is not None]
        if t == "string":
            if not isinstance(value, str):
                self.fail(value, go_path, struct, _go_type(schema, self.defs))
            if schema.get("format") == "byte":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    bad = next((i for i, ch in enumerate(value) if not (ch.isalnum() or ch in "+/=")), len(value))
                    raise _DecodeError(f"illegal base64 data at input byte {bad}") from None
            return value
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(value, go_path, struct, _go_type(schema, self.defs))
            bits = 64 if schema.get("format") == "int64" else 32
            if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
                self.fail(value, go_path, struct, _go_type(schema, self.defs))
            return value
        if t == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(value, go_path, struct, "float64")
            return value
        if t == "boolean":
            if not isinstance(value, bool):
                self.fail(value, go_path, struct, "bool")
            return value
        return value

    def quantity(self, value: Any, go_path: str, struct: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(value, go_path, struct, "resource.Quantity")
        try:
            return quantity.canonical(value)
        except ValueError as exc:
            raise _DecodeError(str(exc)) from None

    @staticmethod
    def fail(value: Any, go_path: str, struct: str, go_type: str) -> None:
        raise _DecodeError(f"json: cannot unmarshal {_json_type(value)} into Go struct field {struct}.{go_path} "
                           f"of type {go_type}")


def decode_builtin(obj: dict, group: str, version: str, kind: str, field_validation: str | None,
                   warnings: list[str] | None) -> dict:
    """``obj`` as kube-apiserver decodes it (raises ApiError 400 on a type error or, under Strict,
    an unknown field). Kinds without a shipped schema pass unchanged."""
    name = root_definition(group, version, kind)
    if name is None:
        return obj
    defs = builtin()["definitions"]
    decoder = _Decoder(defs)
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    try:
        out = decoder.value(obj, {"$ref": f"#/definitions/{name}"}, "", "", kind)
    except _DecodeError as exc:
        raise ApiError(400, "BadRequest", prefix + str(exc)) from None
    report_unknown(decoder.unknown, field_validation, warnings, prefix)
    return out


def report_unknown(unknown: list[str], field_validation: str | None, warnings: list[str] | None,
                   prefix: str) -> None:
    if not unknown:
        return
    texts = [f'unknown field "{u}"' for u in unknown]
    if field_validation == "Strict":
        raise ApiError(400, "BadRequest", prefix + "strict decoding error: " + ", ".join(texts))
    if field_validation != "Ignore" and warnings is not None:
        warnings.extend(texts)


# ------------------------------------------------------------------------------------------------
# Custom resources: structural schemas
# ------------------------------------------------------------------------------------------------


#: ``type_name``'s names as OpenAPI calls them; anything else (a mapping, or what a YAML body may
#: decode to beyond JSON, such as a date) is an "object"
_OPENAPI_NAMES = {"null": "null", "boolean": "boolean", "integer": "integer", "number": "number",
                  "string": "string", "list": "array"}


def _type_of(value: Any) -> str:
    return _OPENAPI_NAMES.get(type_name(value), "object")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"))


class _Structural:
    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.problems: list[tuple[str, str]] = []

    def _invalid(self, path: str, shown: str, requirement: str) -> None:
        """The apiserver's "Invalid value" problem: ``shown`` (the value) at ``path`` breaks ``requirement``."""
        self.problems.append((path, f"Invalid value: {shown}: {path} in body {requirement}"))

    def walk(self, value: Any, schema: dict, path: str) -> Any:
        if value is None:
            if schema.get("nullable"):
                return None
            return None
        want = schema.get("type")
        got = _type_of(value)
        if schema.get("x-kubernetes-int-or-string"):
            if got not in ("integer", "string"):
                self._invalid(path, _shown(got), f"must be of type integer,string: {_shown(got)}")
            return value
        if want and not (got == want or (want == "number" and got == "integer")):
            self._invalid(path, _shown(got), f"must be of type {want}: {_shown(got)}")
            return value
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(_shown(v) for v in schema["enum"])
            self.problems.append((path, f"Unsupported value: {_shown(value)}: supported values: {allowed}"))
        if got in ("integer", "number"):
            if "minimum" in schema and value < schema["minimum"]:
                self._invalid(path, _shown(value), f"should be greater than or equal to {_shown(schema['minimum'])}")
            if "maximum" in schema and value > schema["maximum"]:
                self._invalid(path, _shown(value), f"should be less than or equal to {_shown(schema['maximum'])}")
        if got == "string":
            if "minLength" in schema and len(value) < schema["minLength"]:
                self._invalid(path, _shown(value), f"should be at least {schema['minLength']} chars long")
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                self.problems.append((path, f"Too long: may not be longer than {schema['maxLength']}"))
            if "pattern" in schema and not re.search(schema["pattern"], value):
                self._invalid(path, _shown(value), f"should match '{schema['pattern']}'")
        if got == "array":
            if "minItems" in schema and len(value) < schema["minItems"]:
                self._invalid(path, str(len(value)), f"should have at least {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                self.problems.append((path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items"))
            items = schema.get("items") or {}
            return [self.walk(v, items, f"{path}[{i}]") for i, v in enumerate(value)]
        if got == "object":
            return self.object(value, schema, path)
        return value

    def object(self, value: dict, schema: dict, path: str) -> dict:
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        preserve = schema.get("x-kubernetes-preserve-unknown-fields")
        for req in schema.get("required") or ():
            if req not in value:
                self.problems.append((f"{path}.{req}" if path else req, "Required value"))
        out = {}
        for key, item in value.items():
            sub = f"{path}.{key}" if path else key
            if props is not None and key in props:
                out[key] = self.walk(item, props[key], sub)
            elif isinstance(extra, dict):
                out[key] = self.walk(item, extra, sub)
            elif preserve or (props is None and extra in (None, True)):
                out[key] = item
            else:
                self.unknown.append(sub)
        return out


def decode_custom(obj: dict, crd_version: dict, kind: str, version: str, field_validation: str | None,
                  warnings: list[str] | None) -> tuple[dict, list[tuple[str, str]]]:
    """(pruned object, 422 problems) under the CRD version's ``openAPIV3Schema``."""
    schema = ((crd_version.get("schema") or {}).get("openAPIV3Schema")) or {}
    if not schema or schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
        return obj, []
    walker = _Structural()
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    props = dict(schema.get("properties") or {})
    for k in ("apiVersion", "kind", "metadata"):
        props.pop(k, None)
    pruned = walker.object(body, dict(schema, properties=props), "")
    prefix = f'{kind} in version "{version}" cannot be handled as a {kind}: '
    report_unknown(walker.unknown, field_validation, warnings, prefix)
    out = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    out.update(pruned)
    return out, walker.problems


# ------------------------------------------------------------------------------------------------
# OpenAPI documents (what kubectl explain reads)
# ------------------------------------------------------------------------------------------------


def v3_schema(schema: Any) -> Any:
    """A v2 definition as OpenAPI v3 has it: refs under components, quantity/int-or-string as v3."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "$ref" and isinstance(v, str):
                out[k] = v.replace("#/definitions/", "#/components/schemas/")
            elif k == "properties" and isinstance(v, dict):
                out[k] = {name: v3_schema(prop) for name, prop in v.items()}
            else:
                out[k] = v3_schema(v)
        if "$ref" in out and len(out) > 1:  # v3 siblings of $ref are ignored: wrap it
            ref = out.pop("$ref")
            out["allOf"] = [{"$ref": ref}]
        return out
    if isinstance(schema, list):
        return [v3_schema(v) for v in schema]
    return schema


def reachable(names: list[str], defs: dict) -> list[str]:
    seen: dict[str, None] = {}
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = None
        stack.extend(re.findall(r'"#/definitions/([^"]+)"', json.dumps(defs[name])))
    return sorted(seen)


def crd_definition(crd: dict, version: dict) -> dict:
    """The schema a CRD version contributes to OpenAPI, with its GVK (what explain shows)."""
    spec = crd["spec"]
    schema = json.loads(json.dumps((version.get("schema") or {}).get("openAPIV3Schema") or {"type": "object"}))
    props = schema.setdefault("properties", {})
    props.setdefault("apiVersion", {"type": "string", "description": "APIVersion defines the versioned schema of "
                                                                     "this representation of an object."})
    props.setdefault("kind", {"type": "string", "description": "Kind is a string value representing the REST "
                                                               "resource this object represents."})
    props["metadata"] = {"$ref": "#/definitions/io.k8s.api.v1.ObjectMeta",
                         "description": "Standard object's metadata."}
    schema.setdefault("type", "object")
    schema["x-kubernetes-group-version-kind"] = [{"group": spec["group"], "kind": spec["names"]["kind"],
                                                  "version": version["name"]}]
    return schema


def crd_definition_name(crd: dict, version: str) -> str:
    spec = crd["spec"]
    return ".".join(reversed(spec["group"].split("."))) + f".{version}.{spec['names']['kind']}"
