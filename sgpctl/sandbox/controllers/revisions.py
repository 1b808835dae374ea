"""ControllerRevisions of StatefulSets and DaemonSets: one per Pod template the workload has had,
named ``<workload>-<hash>``, holding the template as the patch ``kubectl rollout undo`` applies
(``{"spec": {"template": {..., "$patch": "replace"}}}``), numbered like the real controllers do (a
template seen before becomes the newest revision again). ``kubectl rollout history`` lists them.
"""

from __future__ import annotations

from sgpctl.sandbox.controllers.cache import copy_of
from sgpctl.sandbox.controllers.pods import owner_reference
from sgpctl.sandbox.controllers.world import CONTROLLERREVISIONS, World

HASH_LABEL = "controller-revision-hash"


def ensure_revision(w: World, owner: dict, name: str, hash_label: str) -> None:
    """Make ``name`` the owner's newest ControllerRevision (creating it if needed)."""
    revisions = w.cache.owned(owner["metadata"]["uid"], CONTROLLERREVISIONS)
    newest = max((int(r.get("revision") or 0) for r in revisions), default=0)
    mine = next((r for r in revisions if r["metadata"]["name"] == name), None)
    if mine is not None:
        if int(mine.get("revision") or 0) < newest:
            new = copy_of(mine)
            new["revision"] = newest + 1
            w.kube.update(CONTROLLERREVISIONS, new)
        return
    spec = owner.get("spec") or {}
    template = copy_of(spec.get("template") or {})
    template["$patch"] = "replace"
    labels = dict(((template.get("metadata") or {}).get("labels")) or {})
    labels[HASH_LABEL] = hash_label
    body = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                         "ownerReferences": [owner_reference(owner)]},
            "data": {"spec": {"template": template}}, "revision": newest + 1}
    try:
        w.kube.create(CONTROLLERREVISIONS, body)
    except Exception as exc:
        if getattr(exc, "reason", None) != "AlreadyExists":
            raise
