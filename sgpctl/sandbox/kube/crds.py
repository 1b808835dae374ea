"""Ready-made CustomResourceDefinitions for the TKE types the sandbox needs.

Creating one in the store (``store.create("customresourcedefinitions", securitygrouppolicy_crd())``)
serves its resource at once. Schemas preserve unknown fields, so any body is accepted, as
validation is the business of sgpctl's own checks, not of the emulated server.
"""

from __future__ import annotations

SGP_GROUP, SGP_PLURAL = "vpcresources.tke.cloud.tencent.com", "securitygrouppolicies"
VPCENI_GROUP, VPCENI_PLURAL = "networking.tke.cloud.tencent.com", "vpcenis"
#: the store's names for the two types (also their CRDs' names)
SGP_RESOURCE = f"{SGP_PLURAL}.{SGP_GROUP}"
VPCENI_RESOURCE = f"{VPCENI_PLURAL}.{VPCENI_GROUP}"

_OPEN_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def _crd(group: str, version: str, plural: str, singular: str, kind: str, short: list[str], scope: str,
         *, status: bool, columns: list[dict]) -> dict:
    ver = {"name": version, "served": True, "storage": True, "schema": _OPEN_SCHEMA,
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


def securitygrouppolicy_crd() -> dict:
    """``vpcresources.tke.cloud.tencent.com/v1beta1`` SecurityGroupPolicy: namespaced, short name sgp."""
    return _crd(SGP_GROUP, "v1beta1", SGP_PLURAL, "securitygrouppolicy",
                "SecurityGroupPolicy", ["sgp"], "Namespaced", status=False, columns=[
                    {"name": "Security-Group-Ids", "type": "string", "jsonPath": ".spec.securityGroups.groupIds"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ])


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
