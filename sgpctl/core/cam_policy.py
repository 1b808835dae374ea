"""The CAM policy TKE's eniipamd needs to create and delete Trunking ENI sub-interfaces (the TKE
document): its document, and whether an existing document grants the same.

Documents are compared parsed, never as strings: key order, whitespace and extra statements do not
matter; what matters is that unconditional allow statements on resource ``*`` cover the three
actions and no deny statement takes one away."""

from __future__ import annotations

import copy
import fnmatch
from typing import Any

POLICY_NAME = "SubENIForIPAMD"
ROLES = ("IPAMDofTKE_QCSRole", "TKE_QCSRole")
REQUIRED_ACTIONS = (
    "vpc:CreateSubNetworkInterface",
    "vpc:DeleteSubNetworkInterface",
    "cvm:CheckNetworkInterfaceSecurityGroupReady",
)
DESCRIPTION = "Lets TKE's eniipamd create and delete Trunking ENI sub-interfaces (SecurityGroupPolicy)"


def seed_document() -> dict:
    return {
        "version": "2.0",
        "statement": [{"effect": "allow", "action": list(REQUIRED_ACTIONS), "resource": ["*"]}],
    }


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _statements(document: Any) -> list[dict]:
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("statement")) if isinstance(s, dict)]


def _covers(patterns: list, action: str) -> bool:
    # CAM action patterns are case-insensitive and allow * wildcards ("vpc:*", "*"). GetPolicy may
    # return them with a "name/" prefix ("name/vpc:CreateSubNetworkInterface", per tccli's examples).
    return any(
        isinstance(p, str) and fnmatch.fnmatchcase(action.lower(), p.lower().removeprefix("name/"))
        for p in patterns
    )


def granted_actions(document: Any, required: tuple[str, ...] = REQUIRED_ACTIONS) -> list[str]:
    """The required actions the document grants on every resource, unconditionally."""
    granted = []
    for action in required:
        allowed = denied = False
        for st in _statements(document):
            effect = str(st.get("effect", "")).lower()
            if not _covers(_as_list(st.get("action")), action):
                continue
            if effect == "deny":
                denied = True
            elif effect == "allow" and "*" in _as_list(st.get("resource")) and not st.get("condition"):
                allowed = True
        if allowed and not denied:
            granted.append(action)
    return granted


def missing_actions(document: Any, required: tuple[str, ...] = REQUIRED_ACTIONS) -> list[str]:
    granted = set(granted_actions(document, required))
    return [a for a in required if a not in granted]


def with_actions(document: Any, actions: list[str]) -> dict:
    """The document plus one allow statement for ``actions`` (the user's statements are kept)."""
    doc = copy.deepcopy(document) if isinstance(document, dict) else {}
    doc.setdefault("version", "2.0")
    statements = _statements(doc)
    statements.append({"effect": "allow", "action": list(actions), "resource": ["*"]})
    doc["statement"] = statements
    return doc
