"""Who is asking, and what they may do: the sandbox's answers to the authentication and
authorization APIs.

The sandbox's one bearer token is a cluster admin (user ``admin``, group ``system:masters``), as
the kubeconfig TKE hands out is; every request is made as that user (RBAC objects are stored and
evaluated for reviews about *other* subjects, never enforced on requests). Service account tokens
(``kubectl create token``) are JWTs signed with a per-server key (HS256): ``TokenReview`` accepts
them until they expire, and accepts the admin token; requests must still use the admin token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any, Callable

ADMIN_USER = {"username": "admin", "groups": ["system:masters", "system:authenticated"]}
DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
ISSUER = "https://kubernetes.default.svc.cluster.local"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    def __init__(self, admin_token: str | None, key: bytes, clock: Callable[[], float] = time.time):
        self.admin_token = admin_token
        self.key = key
        self.clock = clock

    def issue(self, sa: dict, spec: dict) -> dict:
        """A TokenRequest answered: ``spec`` (audiences, expirationSeconds) completed, and status."""
        now = int(self.clock())
        seconds = int(spec.get("expirationSeconds") or 3600)
        audiences = list(spec.get("audiences") or [DEFAULT_AUDIENCE])
        meta = sa["metadata"]
        claims = {"aud": audiences, "exp": now + seconds, "iat": now, "nbf": now, "iss": ISSUER,
                  "jti": str(uuid.uuid4()),
                  "sub": f"system:serviceaccount:{meta['namespace']}:{meta['name']}",
                  "kubernetes.io": {"namespace": meta["namespace"],
                                    "serviceaccount": {"name": meta["name"], "uid": meta.get("uid", "")}}}
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = _b64(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + seconds))
        return {"spec": {"audiences": audiences, "expirationSeconds": seconds,
                         "boundObjectRef": spec.get("boundObjectRef")},
                "status": {"token": f"{head}.{body}.{sig}", "expirationTimestamp": expires}}

    def review(self, token: str, audiences: list[str] | None) -> dict:
        """TokenReview status for ``token``."""
        if self.admin_token is not None and hmac.compare_digest(token, self.admin_token):
            return {"authenticated": True, "user": dict(ADMIN_USER), "audiences": audiences or [DEFAULT_AUDIENCE]}
        try:
            head, body, sig = token.split(".")
            good = _b64(hmac.new(self.key, f"{head}.{body}".encode(), hashlib.sha256).digest())
            claims = json.loads(_unb64(body))
        except (ValueError, TypeError):
            return {"authenticated": False, "error": "invalid bearer token"}
        if not hmac.compare_digest(sig, good):
            return {"authenticated": False, "error": "invalid bearer token, square/go-jose: error in cryptographic "
                                                     "primitive"}
        if claims.get("exp", 0) < self.clock():
            return {"authenticated": False, "error": "invalid bearer token, service account token has expired"}
        wanted = audiences or [DEFAULT_AUDIENCE]
        shared = [a for a in wanted if a in claims.get("aud", ())]
        if not shared:
            return {"authenticated": False, "error": "invalid bearer token, token audiences "
                                                     f"{json.dumps(claims.get('aud'))} is invalid for the target "
                                                     f"audiences {json.dumps(wanted)}"}
        ns = claims["kubernetes.io"]["namespace"]
        sa = claims["kubernetes.io"]["serviceaccount"]
        return {"authenticated": True, "audiences": shared, "user": {
            "username": claims["sub"], "uid": sa.get("uid", ""),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"],
            "extra": {"authentication.kubernetes.io/credential-id": [f"JTI={claims.get('jti')}"]}}}


# ------------------------------------------------------------------------------------------------
# RBAC evaluation (for reviews about a named subject)
# ------------------------------------------------------------------------------------------------


def _subject_matches(subject: dict, user: str, groups: list[str], binding_ns: str) -> bool:
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user
    if kind == "Group":
        return subject.get("name") in groups
    if kind == "ServiceAccount":
        return user == f"system:serviceaccount:{subject.get('namespace') or binding_ns}:{subject.get('name')}"
    return False


def _rule_allows(rule: dict, attrs: dict) -> bool:
    def has(values: Any, wanted: str) -> bool:
        values = values or ()
        return "*" in values or wanted in values

    if attrs.get("nonResource"):
        return has(rule.get("verbs"), attrs["verb"]) and any(
            u == attrs["path"] or (u.endswith("*") and attrs["path"].startswith(u[:-1]))
            for u in rule.get("nonResourceURLs") or ())
    resource = attrs.get("resource", "")
    if attrs.get("subresource"):
        resource += "/" + attrs["subresource"]
    names = rule.get("resourceNames")
    return (has(rule.get("verbs"), attrs.get("verb", "")) and has(rule.get("apiGroups"), attrs.get("group", ""))
            and (has(rule.get("resources"), resource) or has(rule.get("resources"), attrs.get("resource", "") + "/*"))
            and (not names or attrs.get("name") in names))


def allowed(store: Any, user: str, groups: list[str], attrs: dict) -> tuple[bool, str]:
    """Whether RBAC lets ``user`` do ``attrs`` (SubjectAccessReview resourceAttributes plus
    ``nonResource``/``path``), and the reason kube-apiserver gives."""
    if "system:masters" in groups:
        return True, ""
    ns = attrs.get("namespace") or ""
    bindings = [("ClusterRoleBinding", b) for b in store.list("clusterrolebindings.rbac.authorization.k8s.io")]
    if ns:
        bindings += [("RoleBinding", b) for b in store.list("rolebindings.rbac.authorization.k8s.io", ns)]
    for kind, b in bindings:
        b_ns = b["metadata"].get("namespace", "")
        if not any(_subject_matches(s, user, groups, b_ns) for s in b.get("subjects") or ()):
            continue
        ref = b.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            role = store.get("clusterroles.rbac.authorization.k8s.io", None, ref.get("name", ""))
        else:
            role = store.get("roles.rbac.authorization.k8s.io", b_ns, ref.get("name", ""))
        for rule in (role or {}).get("rules") or ():
            if _rule_allows(rule, attrs):
                where = f' in namespace "{b_ns}"' if kind == "RoleBinding" else ""
                return True, (f'RBAC: allowed by {kind} "{b["metadata"]["name"]}" of {ref.get("kind")} '
                              f'"{ref.get("name")}" to {user}{where}')
    return False, ""


def admin_rules() -> dict:
    return {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
