"""Ready-made CustomResourceDefinitions for the TKE types the sandbox needs.

Creating one in the store (``store.create("customresourcedefinitions", securitygrouppolicy_crd())``)
serves its resource at once. The VpcENI schema preserves unknown fields. TKE does not publish its
SecurityGroupPolicy CRD's schema, so it is the sandbox variant ``sgp-crd-schema``: ``none`` (the
default: any body is accepted) or ``strict`` (the structural schema of the AWS VPC resource
controller's SecurityGroupPolicy, which TKE's API mirrors: typed fields, ``groupIds`` 1 to 16
items, unknown fields refused or pruned).
"""

from __future__ import annotations

SGP_GROUP, SGP_PLURAL = "vpcresources.tke.cloud.tencent.com", "securitygrouppolicies"
VPCENI_GROUP, VPCENI_PLURAL = "networking.tke.cloud.tencent.com", "vpcenis"
#: the store's names for the two types (also their CRDs' names)
SGP_RESOURCE = f"{SGP_PLURAL}.{SGP_GROUP}"
VPCENI_RESOURCE = f"{VPCENI_PLURAL}.{VPCENI_GROUP}"

#: values of the sandbox variant ``sgp-crd-schema``
SGP_CRD_SCHEMAS = ("none", "strict")
_OPEN_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _label_selector(what: str) -> dict:
    requirement = {
        "type": "object", "required": ["key", "operator"],
        "description": "A label selector requirement is a selector that contains values, a key, and an operator "
                       "that relates the key and values.",
        "properties": {
            "key": {"type": "string", "description": "key is the label key that the selector applies to."},
            "operator": {"type": "string", "description": "operator represents a key's relationship to a set of "
                                                          "values. Valid operators are In, NotIn, Exists and "
                                                          "DoesNotExist."},
            "values": {"type": "array", "items": {"type": "string"},
                       "description": "values is an array of string values. If the operator is In or NotIn, the "
                                      "values array must be non-empty. If the operator is Exists or DoesNotExist, "
                                      "the values array must be empty."}}}
    return {"type": "object", "x-kubernetes-map-type": "atomic",
            "description": f"A label selector over {what}. The result of matchLabels and matchExpressions are "
                           "ANDed. An empty label selector matches all objects. A null label selector matches no "
                           "objects.",
            "properties": {
                "matchExpressions": {"type": "array", "items": requirement,
                                     "description": "matchExpressions is a list of label selector requirements. "
                                                    "The requirements are ANDed."},
                "matchLabels": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "matchLabels is a map of {key,value} pairs."}}}


#: the AWS VPC resource controller's SecurityGroupPolicy schema (config/crd/bases), which TKE's mirrors
SGP_STRICT_SCHEMA = {"openAPIV3Schema": {
    "type": "object",
    "description": "Custom Resource Definition for applying security groups to pods",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "description": "SecurityGroupPolicySpec defines the desired state of SecurityGroupPolicy",
            "properties": {
                "podSelector": _label_selector("Pods"),
                "serviceAccountSelector": _label_selector("ServiceAccounts"),
                "securityGroups": {
                    "type": "object",
                    "description": "GroupIds contains the list of security groups that will be applied to the "
                                   "network interface of the pod matching the criteria.",
                    "properties": {"groupIds": {
                        "type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 16,
                        "description": "Groups is the list of security group ids that need to be applied to the "
                                       "ENI of a Pod."}}},
            },
        },
    },
}}


def _crd(group: str, version: str, plural: str, singular: str, kind: str, short: list[str], scope: str,
         *, status: bool, columns: list[dict], schema: dict = _OPEN_SCHEMA) -> dict:
    ver = {"name": version, "served": True, "storage": True, "schema": schema,
           "additionalPrinterColumns": columns}
    if status:
        ver["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"plural": plural, "singular": singular, "kind": kind, "listKind": kind + "List",
                      "shortNames": short},
            "scope": scope,
            "versions": [ver],
        },
    }


def securitygrouppolicy_crd(schema: str = "none") -> dict:
    """``vpcresources.tke.cloud.tencent.com/v1beta1`` SecurityGroupPolicy: namespaced, short name sgp.
    ``schema``: the ``sgp-crd-schema`` variant, "none" (unknown fields kept, nothing checked) or "strict"."""
    if schema not in SGP_CRD_SCHEMAS:
        raise ValueError(f"unknown SecurityGroupPolicy CRD schema {schema!r}: none or strict")
    return _crd(SGP_GROUP, "v1beta1", SGP_PLURAL, "securitygrouppolicy",
                "SecurityGroupPolicy", ["sgp"], "Namespaced", status=False, columns=[
                    {"name": "Security-Group-Ids", "type": "string", "jsonPath": ".spec.securityGroups.groupIds"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ], schema=SGP_STRICT_SCHEMA if schema == "strict" else _OPEN_SCHEMA)


def vpceni_crd(kind: str = "VpcENI") -> dict:
    """``networking.tke.cloud.tencent.com/v1`` VpcENI: cluster-scoped, status subresource. Its kind's
    spelling is unconfirmed (the seed writes "VpcEni"; the sandbox variant ``vpceni-kind`` picks one):
    the singular and short name are the kind in lower case, the plural adds an s, as CRDs name them."""
    singular = kind.lower()
    return _crd(VPCENI_GROUP, "v1", singular + "s", singular, kind, [singular], "Cluster",
                status=True, columns=[
                    {"name": "ENI-ID", "type": "string", "jsonPath": ".status.eni.eniID"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ])
