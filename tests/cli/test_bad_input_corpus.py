"""The bad-input corpus: every case runs the installed `sgpctl` (a subprocess) against one sandbox and
must exit 2 (3 when the API is unreachable or refuses the credentials), print one `error:` line and
at most one `hint:` line (the problem-list form for policy files), name the problem, print no
traceback and no secret, and change nothing: the sandbox's state is digested before and after, and
its request log must show no successful mutating request.

It holds the reliability review's 31 failures (ids ``review-N``), its alias bombs, and traversal
strings fed to every command that takes a name, a namespace or an id; one of them is the review's
exploit (``policy delete '../../../../../../api/v1/namespaces/my-namespace/configmaps/...'``),
whose ConfigMap must still exist at the end.

The cases run in a small thread pool (each is its own process); the per-case tests then check
their recorded results.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sandbox_support import SGPCTL, create_sgp, group_id, running_sandbox, sandbox_env, sgp_ready

NS = "my-namespace"
VICTIM = "rel-victim"
EXPLOIT = f"../../../../../../api/v1/namespaces/{NS}/configmaps/{VICTIM}"
SGP = "securitygrouppolicies.vpcresources.tke.cloud.tencent.com"
PROBLEM_LIST_END = re.compile(r"^\d+ problem\(s\); nothing was applied$")


@dataclass
class Case:
    id: str
    args: list[str]
    needle: str                      # what the error line must mention
    expect: int = 2
    form: str = "one-line"           # one-line | usage | problem-list | listed (problem-list or one-line)
    env: dict = field(default_factory=dict)
    stdin: bytes | None = None
    home: str | None = None          # name of a prepared HOME (tccli profiles)
    memory_limit: int | None = None  # bytes of address space for the child (RLIMIT_AS)


# -- the policy files ----------------------------------------------------------------------------

def policy(name="corpus", namespace=NS, groups=("{sg}",), selector="podSelector:\n    matchLabels:\n      app: web",
           extra_top="", extra_spec="") -> str:
    ids = "".join(f"\n      - {g}" for g in groups)
    return (f"apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1\nkind: SecurityGroupPolicy\n{extra_top}"
            f"metadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  {selector}\n{extra_spec}"
            f"  securityGroups:\n    groupIds:{ids}\n")


def laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


GOOD = policy()
SELECTOR = "podSelector:\n    matchExpressions:\n      - {expr}"
# file name -> (content: str or bytes, the words its problem must contain)
FILES: dict[str, tuple[object, str]] = {
    "malformed.yaml": ("apiVersion: x\nkind: [SecurityGroupPolicy\n", "invalid YAML"),
    "tabs.yaml": (GOOD.replace("  name", "\tname"), "tabs"),
    "wrong-kind.yaml": (GOOD.replace("kind: SecurityGroupPolicy", "kind: Deployment"), "only SecurityGroupPolicy"),
    "kind-case.yaml": (GOOD.replace("kind: SecurityGroupPolicy", "kind: securitygrouppolicy"), "case-sensitive"),
    "no-kind.yaml": (GOOD.replace("kind: SecurityGroupPolicy\n", ""), "kind: is required"),
    "aws-apiversion.yaml": (GOOD.replace("vpcresources.tke.cloud.tencent.com/v1beta1", "vpcresources.k8s.aws/v1beta1"), "AWS EKS"),
    "no-apiversion.yaml": (GOOD.split("\n", 1)[1], "apiVersion: is required"),
    "missing-groupids.yaml": (GOOD.replace("    groupIds:\n      - {sg}\n", "    {}\n"), "groupIds"),
    "empty-groupids.yaml": (GOOD.replace("groupIds:\n      - {sg}", "groupIds: []"), "at least one"),
    "groupids-string.yaml": (GOOD.replace("groupIds:\n      - {sg}", "groupIds: {sg}"), "must be a list"),
    "bad-sgid.yaml": (policy(groups=("sg-XYZ",)), "not a security group id"),
    "upper-sgid.yaml": (policy(groups=("SG-1A2B3C4D",)), "ids are lowercase"),
    "dup-sgid.yaml": (policy(groups=("{sg}", "{sg}")), "listed twice"),
    "int-sgid.yaml": (policy(groups=("12345678",)), "must be a string"),
    "bad-operator.yaml": (policy(selector=SELECTOR.format(expr="{key: app, operator: Equals, values: [web]}")), "Equals"),
    "exists-with-values.yaml": (policy(selector=SELECTOR.format(expr="{key: app, operator: Exists, values: [x]}")), "values"),
    "bad-label-key.yaml": (policy(selector="podSelector:\n    matchLabels:\n      'a b': web"), "matchLabels"),
    "label-value-too-long.yaml": (policy(selector="podSelector:\n    matchLabels:\n      app: " + "v" * 64), "63"),
    "label-value-bad-chars.yaml": (policy(selector="podSelector:\n    matchLabels:\n      app: 'w eb'"), "valid label"),
    "selector-is-string.yaml": (policy(selector="podSelector: app=web"), "label selector mapping"),
    "neither-selector.yaml": (policy(selector="# no selector"), "podSelector and/or serviceAccountSelector"),
    "null-podselector.yaml": (policy(selector="podSelector: null"), "is null"),
    "unknown-field.yaml": (policy(extra_top="specs: {}\n"), "unknown field"),
    "no-spec.yaml": (GOOD.split("spec:")[0], "spec: is required"),
    "bad-name.yaml": (policy(name="Bad_Name"), "RFC 1123 subdomain"),
    "traversal-name.yaml": (policy(name="'" + EXPLOIT + "'"), "RFC 1123 subdomain"),
    "unicode-name.yaml": (policy(name="\u00fcn\u00efcode"), "RFC 1123 subdomain"),
    "bad-namespace.yaml": (policy(namespace="Bad_NS"), "RFC 1123 label"),
    "dup-docs.yaml": (GOOD + "---\n" + GOOD, "defined twice"),
    "bad-then-good.yaml": (policy(groups=("sg-XYZ",)) + "---\n" + policy(name="second"), "not a security group id"),
    "good-then-yaml-error.yaml": (GOOD + "---\nkind: [\n", "invalid YAML"),
    "dup-keys.yaml": (GOOD.replace("kind: SecurityGroupPolicy\n", "kind: SecurityGroupPolicy\nkind: SecurityGroupPolicy\n"), "duplicate key"),
    "scalar-doc.yaml": ("just a string\n", "expected a SecurityGroupPolicy object"),
    "list-doc.yaml": ("- a\n- b\n", "expected a SecurityGroupPolicy object"),
    "kind-list-items-not-list.yaml": ("apiVersion: v1\nkind: List\nitems: 5\n", "must be a list"),
    "newline-key.yaml": (policy(extra_top='"bad\\nkey": 1\n'), "bad\\nkey"),
    "binary.bin": (random.Random(7).randbytes(2048), "not UTF-8"),
    "latin1.yaml": (GOOD.replace("corpus", "caf\u00e9").encode("latin-1"), "not UTF-8"),
    "empty.yaml": ("", "no documents"),
    "nul-bytes.yaml": (GOOD.replace("name: corpus", "name: cor\x00pus"), "control character NUL"),
    "control-char.yaml": (GOOD.replace("app: web", "app: w\x1feb"), "control character U+001F"),
    "escape-seq.yaml": (GOOD.replace("app: web", "app: '\x1b[2J'"), "control character U+001B"),
    "deep-nesting.yaml": ("a: " + "[" * 5000 + "]" * 5000 + "\n", "deeper than the limit of 100"),
    "deep-mapping.yaml": ("".join(f"{' ' * i}k{i}:\n" for i in range(150)) + " " * 150 + "v\n", "deeper than the limit of 100"),
    "laughs-7.yaml": (laughs(7), "alias bomb"),
    "laughs-9.yaml": (laughs(9), "alias bomb"),
    "recursive-alias.yaml": ("a: &a [*a]\n", "recursive alias"),
    "merge-bomb.yaml": ("a0: &a0 {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8}\n"
                        + "".join(f"a{i}: &a{i} {{<<: [" + ", ".join([f"*a{i - 1}"] * 9) + "]}\n" for i in range(1, 8)),
                        "alias bomb"),
    "huge-int.yaml": ("replicas: " + "9" * 5000 + "\n", "invalid value"),
    "bad-tag.yaml": (GOOD.replace("name: corpus", "name: !!timestamp ''"), "invalid value for its type or tag"),
    "too-many-docs.yaml": ("---\na: 1\n" * 1001, "more than 1000 documents"),
    "too-large.yaml": (GOOD + ("# " + "x" * 1022 + "\n") * (9 * 1024), "larger than the limit of 8.0 MiB"),
}
# Only `apply` can find these: they pass the offline checks and fail against the cluster and cloud.
APPLY_ONLY = {
    "nonexistent-sg.yaml": (policy(groups=("sg-00000000",)), "sg-00000000"),
    "nonexistent-namespace.yaml": (policy(namespace="no-such-namespace"), "no-such-namespace"),
    "too-many-groups.yaml": (policy(groups=("{sg}", "{sg2}", "{sg3}", "sg-00000001", "sg-00000002", "sg-00000003")), "limit"),
    "good-then-bad.yaml": (GOOD + "---\n" + policy(name="second", groups=("sg-00000000",)), "sg-00000000"),
}
REVIEW_FILES = {"nul-bytes.yaml": (1, 2), "deep-nesting.yaml": (4, 5), "laughs-7.yaml": (6, None)}
# `apply` reads a file exactly as `validate` does (tests/core/test_loading.py); these show it end to end.
APPLY_TOO = {"malformed.yaml", "tabs.yaml", "bad-sgid.yaml", "bad-namespace.yaml", "traversal-name.yaml", "dup-docs.yaml",
             "binary.bin", "latin1.yaml", "empty.yaml", "nul-bytes.yaml", "control-char.yaml", "deep-nesting.yaml",
             "laughs-7.yaml", "laughs-9.yaml", "recursive-alias.yaml", "merge-bomb.yaml", "huge-int.yaml", "bad-tag.yaml",
             "too-many-docs.yaml", "too-large.yaml", "newline-key.yaml"}

# A normal run of sgpctl (Python, typer, the SDKs) maps about 500 MiB of address space.
MEMORY_LIMIT = 1024 * 1024 * 1024
TRAVERSAL = ["../..", "..", ".", "%2e%2e", "a/b", "?x=", "#", "\u00fcn\u00efcode", "a\nb", EXPLOIT]


def file_cases() -> list[Case]:
    cases = []
    for name, (_, needle) in FILES.items():
        review = REVIEW_FILES.get(name, (None, None))
        for verb, number in (("validate", review[0]), ("apply", review[1])):
            if verb == "apply" and name not in APPLY_TOO:
                continue
            prefix = f"review-{number}:" if number else ""
            form = "problem-list" if verb == "validate" else "listed"
            if name in ("binary.bin", "latin1.yaml", "too-large.yaml"):
                form = "one-line" if name != "too-large.yaml" else form
            cases.append(Case(f"{prefix}file-{verb}:{name}", ["policy", verb, "-f", "{dir}/" + name], needle, form=form))
    for name, (_, needle) in APPLY_ONLY.items():
        cases.append(Case(f"file-apply:{name}", ["policy", "apply", "-f", "{dir}/" + name], needle, form="listed"))
    for verb in ("validate", "apply"):
        cases.append(Case(f"file-{verb}:no-such-file", ["policy", verb, "-f", "{dir}/no-such.yaml"], "not found"))
        # -f reads a directory's manifests (as kubectl does): one without any is refused, nothing dropped silently
        cases.append(Case(f"file-{verb}:a-directory-without-manifests", ["policy", verb, "-f", "{dir}/empty-dir"],
                          "holds no .yaml, .yml or .json file"))
    cases += [
        Case("review-18:file-apply:empty-path", ["policy", "apply", "-f", ""], "name is empty"),
        Case("review-3:stdin-apply:binary", ["policy", "apply", "-f", "-"], "not UTF-8",
             stdin=random.Random(3).randbytes(4096)),
        Case("stdin-validate:control-chars", ["policy", "validate", "-f", "-"], "control character", form="problem-list",
             stdin=b"kind: Security\x1fGroupPolicy\n"),
        Case("stdin-apply:empty", ["policy", "apply", "-f", "-"], "no documents", form="listed", stdin=b""),
        Case("stdin-apply:alias-bomb", ["policy", "apply", "-f", "-"], "alias bomb", form="listed", stdin=laughs(9).encode()),
        Case("explain:bad-file+snapshot", ["policy", "explain", "-f", "{dir}/bad-sgid.yaml", "--snapshot", "{examples}/snapshot.yaml"],
             "not a security group id"),
        Case("explain:binary-snapshot", ["policy", "explain", "--snapshot", "{dir}/binary.bin", "-A"], "not UTF-8"),
        Case("explain:malformed-snapshot", ["policy", "explain", "--snapshot", "{dir}/malformed.yaml", "-A"], "invalid YAML"),
        Case("explain:alias-bomb-snapshot", ["policy", "explain", "--snapshot", "{dir}/laughs-9.yaml", "-A"], "alias bomb"),
        Case("explain:nul-snapshot", ["policy", "explain", "--snapshot", "{dir}/nul-bytes.yaml", "-A"], "control character NUL"),
        # The alias bombs again, in a child whose address space is capped: expanding even the 7-level
        # one takes gigabytes, so only a refusal without expansion can answer here.
        *[Case(f"memory-limit:{verb}:{name}", ["policy", verb, "-f", "{dir}/" + name], "alias bomb", form="listed",
               memory_limit=MEMORY_LIMIT) for verb in ("validate", "apply") for name in ("laughs-7.yaml", "laughs-9.yaml", "merge-bomb.yaml")],
        Case("memory-limit:snapshot:laughs-9", ["policy", "explain", "--snapshot", "{dir}/laughs-9.yaml", "-A"], "alias bomb",
             memory_limit=MEMORY_LIMIT),
        Case("capacity:plan-malformed", ["capacity", "--plan", "{dir}/malformed.yaml"], "invalid YAML"),
        Case("capacity:plan-deep", ["capacity", "--plan", "{dir}/deep-nesting.yaml"], "deeper than the limit"),
    ]
    return cases


def flag_cases() -> list[Case]:
    usage = [
        ("review-7:flag:unknown-option", ["policy", "validate", "-f", "{examples}/policy.yaml", "--frobnicate"], "No such option"),
        ("review-8:flag:unknown-command", ["frobnicate"], "No such command"),
        ("review-9:flag:missing-f", ["policy", "validate"], "Missing option"),
        ("review-10:flag:bad-o", ["verify", "pods", "-A", "-o", "xml"], "-o 'xml' is not an output format"),
        ("review-11:flag:bad-o-mutating", ["policy", "apply", "-f", "{examples}/policy.yaml", "-o", "xml"], "-o 'xml' is not an output format"),
        ("review-12:flag:timeout-zero", ["enable-trunking", "--timeout", "0"], "--timeout"),
        ("review-13:flag:timeout-negative", ["enable-trunking", "--timeout", "-5"], "--timeout"),
        ("review-14:flag:setup-timeout-zero", ["setup", "--yes", "--timeout", "0"], "--timeout"),
        ("review-15:flag:addon-timeout-negative", ["addon", "install", "--timeout", "-1"], "--timeout"),
        ("review-16:flag:rollout-timeout-nan", ["policy", "rollout", "-n", NS, "--all", "--yes", "--wait", "--timeout", "nan"], "--timeout"),
        ("review-17:flag:verify-pod-no-name", ["verify", "pod", "-n", NS], "Missing argument"),
        ("flag:sandbox-no-verb", ["sandbox", "frobnicate"], "No such command"),
    ]
    cases = [Case(i, a, n, form="usage") for i, a, n in usage]
    one = [
        ("flag:-n-and-A", ["verify", "pods", "-n", "default", "-A"], "mutually exclusive"),
        ("flag:-n-and-A-policy-list", ["policy", "list", "-n", "default", "-A"], "mutually exclusive"),
        ("review-19:flag:bad-namespace-verify", ["verify", "pods", "-n", "Bad_NS!"], "-n/--namespace 'Bad_NS!' is invalid"),
        ("review-20:flag:bad-namespace-policy-list", ["policy", "list", "-n", "UPPER"], "RFC 1123 label"),
        ("review-21:flag:bad-namespace-routing-check", ["routing", "check", "-n", "a/b"], "-n/--namespace 'a/b'"),
        ("review-22:flag:bad-namespace-rollout", ["policy", "rollout", "-n", "-bad-", "--all", "--dry-run"], "'-bad-'"),
        ("flag:bad-namespace-create", ["policy", "create", "x", "-n", "Bad NS", "--pod-selector", "app=web", "--sg", "{sg}"], "'Bad NS'"),
        ("review-23:flag:policy-delete-bad-name", ["policy", "delete", "Bad Name!", "-n", NS, "--yes"], "NAME 'Bad Name!' is invalid"),
        ("review-24:flag:region-unknown", ["--region", "nowhere-9", "sg", "list"], "--region 'nowhere-9'"),
        ("review-25:flag:cluster-id-malformed", ["--cluster-id", "not-a-cluster", "trunking", "status"], "--cluster-id 'not-a-cluster'"),
        ("review-26:flag:cam-setup-bad-policy-name", ["cam", "setup", "--policy-name", "bad name with spaces"], "CAM policy name"),
        ("review-27:flag:policy-get-traversal-pod", ["policy", "get", "../../../../../../api/v1/namespaces/my-namespace/pods/x", "-n", NS, "-o", "json"], "RFC 1123 subdomain"),
        ("review-28:flag:policy-delete-traversal-configmap", ["policy", "delete", EXPLOIT, "-n", NS, "--yes"], "RFC 1123 subdomain"),
        ("flag:create-bad-sg", ["policy", "create", "x", "-n", NS, "--pod-selector", "app=web", "--sg", "sg-XYZ"], "not a security group id"),
        ("flag:create-bad-selector", ["policy", "create", "x", "-n", NS, "--pod-selector", "app in (a", "--sg", "{sg}"], "podSelector"),
        ("flag:create-no-sg", ["policy", "create", "x", "-n", NS, "--pod-selector", "app=web"], "--sg"),
        ("flag:create-bad-name", ["policy", "create", "Bad_Name", "-n", NS, "--pod-selector", "app=web", "--sg", "{sg}"], "'Bad_Name'"),
        ("flag:create-long-label-value", ["policy", "create", "x", "-n", NS, "--pod-selector", "app=" + "v" * 64, "--sg", "{sg}"], "63"),
        ("flag:create-bad-operator", ["policy", "create", "x", "-n", NS, "--pod-selector", "app~=a", "--sg", "{sg}"], "podSelector"),
        ("flag:fail-on", ["verify", "pods", "-A", "--fail-on", "banana"], "--fail-on"),
        ("flag:bad-l-selector", ["verify", "pods", "-A", "-l", "app in (web"], "-l"),
        ("flag:verify-expect-sg", ["verify", "pod", "web-x", "-n", NS, "--expect-sg", "notansg"], "--expect-sg"),
        ("flag:sg-create-empty-name", ["sg", "create", ""], "must not be empty"),
        ("flag:sg-create-escape-name", ["sg", "create", "web\x1b[2J"], "non-printable"),
        ("flag:sg-create-bad-tag", ["sg", "create", "corpus-sg", "--tag", "novalue"], "key=value"),
        ("flag:sg-create-long-name", ["sg", "create", "n" * 61], "60 characters"),
        ("flag:endpoint-scheme", ["--endpoint", "ftp://127.0.0.1:1", "cam", "status"], "scheme"),
        ("flag:endpoint-path", ["--endpoint", "http://127.0.0.1:9/path", "cam", "status"], "path"),
        ("flag:endpoint-port", ["--endpoint", "http://127.0.0.1:notaport", "cam", "status"], "invalid endpoint"),
        ("flag:endpoint-userinfo", ["--endpoint", "http://AKIDcorpus:CORPUSKEY@127.0.0.1:9", "cam", "status"], "http://***@127.0.0.1:9"),
        ("flag:routing-set-banana", ["routing", "set", "banana"], "banana"),
        ("flag:doctor-category", ["doctor", "--category", "banana"], "banana"),
        ("flag:profile-traversal", ["--profile", "../../etc/passwd", "cam", "status"], "--profile '../../etc/passwd'"),
        ("flag:cam-role-escape", ["cam", "status", "--role", "IPAMD\x1b]0;x"], "--role"),
        ("flag:addon-name-newline", ["addon", "status", "--name", "security\ngrouppolicy"], "--name 'security\\ngrouppolicy'"),
        ("flag:verify-pods-policy-traversal", ["verify", "pods", "-A", "--policy", "../x"], "--policy '../x'"),
    ]
    return cases + [Case(i, a, n) for i, a, n in one]


def traversal_cases() -> list[Case]:
    cases = []
    commands = {
        "policy-delete": (lambda t: ["policy", "delete", t, "-n", NS, "--yes"], TRAVERSAL),
        "policy-get": (lambda t: ["policy", "get", t, "-n", NS], TRAVERSAL[::2] + [TRAVERSAL[-1]]),
        "verify-pod": (lambda t: ["verify", "pod", t, "-n", NS], TRAVERSAL[1::5]),
        "policy-explain": (lambda t: ["policy", "explain", t, "-n", NS], TRAVERSAL[2::5]),
        "policy-rollout": (lambda t: ["policy", "rollout", t, "-n", NS, "--dry-run"], TRAVERSAL[3::5]),
        "policy-create": (lambda t: ["policy", "create", t, "-n", NS, "--pod-selector", "app=web", "--sg", "{sg}"], TRAVERSAL[4::5]),
        "verify-pods-policy": (lambda t: ["verify", "pods", "-n", NS, "--policy", t], TRAVERSAL[::5]),
    }
    for name, (build, values) in commands.items():
        for t in values:
            cases.append(Case(f"traversal:{name}:{t!r}", build(t), "is invalid"))
    namespaced = {
        "policy-list": lambda n: ["policy", "list", "-n", n],
        "policy-get": lambda n: ["policy", "get", "existing", "-n", n],
        "policy-delete": lambda n: ["policy", "delete", "existing", "-n", n, "--yes"],
        "policy-explain": lambda n: ["policy", "explain", "-n", n],
        "policy-rollout": lambda n: ["policy", "rollout", "-n", n, "--all", "--dry-run"],
        "policy-create": lambda n: ["policy", "create", "x", "-n", n, "--pod-selector", "app=web", "--sg", "{sg}"],
        "verify-pods": lambda n: ["verify", "pods", "-n", n],
        "verify-pod": lambda n: ["verify", "pod", "web", "-n", n],
        "routing-check": lambda n: ["routing", "check", "-n", n],
    }
    for i, (name, build) in enumerate(namespaced.items()):
        for t in (TRAVERSAL[i % len(TRAVERSAL)], "kube-system/../my-namespace" if i % 2 else TRAVERSAL[(i + 4) % len(TRAVERSAL)]):
            cases.append(Case(f"traversal:-n:{name}:{t!r}", build(t), "-n/--namespace"))
    return cases


def env_cases() -> list[Case]:
    kc = "{dir}/kubeconfigs/"
    cases = [
        Case("review-29:env:kubeconfig-garbage", ["verify", "pods", "-A"], "mapping values are not allowed", env={"KUBECONFIG": kc + "garbage"}),
        Case("review-30:env:kubeconfig-garbage-mutating", ["policy", "apply", "-f", "{dir}/good.yaml"], "mapping values are not allowed",
             env={"KUBECONFIG": kc + "garbage"}),
        Case("review-31:env:kubeconfig-directory", ["verify", "pods", "-A"], "is a directory", env={"KUBECONFIG": kc}),
        Case("env:kubeconfig-hostname", ["policy", "list", "-A"], "not a kubeconfig", env={"KUBECONFIG": kc + "hostname"}),
        Case("env:kubeconfig-hostname-flag", ["--kubeconfig", kc + "hostname", "policy", "list", "-A"], "not a kubeconfig"),
        Case("env:kubeconfig-empty", ["verify", "pods", "-A"], "kubeconfig", env={"KUBECONFIG": kc + "empty"}),
        Case("env:kubeconfig-no-contexts", ["verify", "pods", "-A"], "kubeconfig", env={"KUBECONFIG": kc + "no-contexts"}),
        Case("env:kubeconfig-missing", ["verify", "pods", "-A"], "no kubeconfig", env={"KUBECONFIG": "{dir}/nowhere/kubeconfig"}),
        Case("env:kubeconfig-clusters-int", ["verify", "pods", "-A"], "clusters must be a list", env={"KUBECONFIG": kc + "clusters-int"}),
        Case("env:kubeconfig-binary", ["verify", "pods", "-A"], "not UTF-8", env={"KUBECONFIG": kc + "binary"}),
        Case("env:kubeconfig-alias-bomb", ["verify", "pods", "-A"], "alias bomb", env={"KUBECONFIG": kc + "bomb"}),
        Case("env:kubeconfig-bad-namespace", ["policy", "list"], "namespace 'Bad_NS' is invalid", env={"KUBECONFIG": kc + "bad-namespace"}),
        Case("env:bad-context", ["--context", "nope", "verify", "pods", "-A"], "nope"),
        Case("env:bad-context-mutating", ["--context", "nope", "policy", "apply", "-f", "{dir}/good.yaml"], "nope"),
        Case("env:tccli-credential-malformed", ["cam", "status"], "default.credential", home="bad-profile",
             env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None}),
        Case("env:tccli-configure-malformed-explicit", ["--profile", "default", "sg", "list"], "default.configure", home="bad-profile"),
        Case("env:tccli-profile-traversal", ["cam", "status"], "TCCLI_PROFILE '../x'", env={"TCCLI_PROFILE": "../x"}),
        Case("env:region-bad", ["sg", "list"], "TENCENTCLOUD_REGION 'ap_guangzhou'", env={"TENCENTCLOUD_REGION": "ap_guangzhou"}),
        Case("env:cluster-id-bad", ["trunking", "status"], "SGPCTL_CLUSTER_ID 'cls-../x'", env={"SGPCTL_CLUSTER_ID": "cls-../x"}),
        Case("env:retry-not-a-number", ["sg", "list"], "SGPCTL_RETRY_MAX_ATTEMPTS", env={"SGPCTL_RETRY_MAX_ATTEMPTS": "abc"}),
        Case("env:endpoint-userinfo", ["sg", "list"], "http://***@127.0.0.1:9", env={"SGPCTL_ENDPOINT": "http://AKIDcorpus:CORPUSKEY@127.0.0.1:9"}),
        # could not determine: exit 3
        Case("env:no-credentials", ["cam", "status"], "no Tencent Cloud credentials", expect=3,
             env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None}),
        Case("env:wrong-secret-key", ["cam", "status"], "AuthFailure", expect=3, env={"TENCENTCLOUD_SECRET_KEY": "x" * 32}),
        Case("env:wrong-secret-key-mutating", ["sg", "create", "corpus-wrong-key"], "AuthFailure", expect=3,
             env={"TENCENTCLOUD_SECRET_KEY": "x" * 32}),
        Case("env:unreachable-cloud", ["cam", "status"], "127.0.0.1:9", expect=3, env={"SGPCTL_ENDPOINT": "http://127.0.0.1:9"}),
        Case("env:unreachable-cloud-mutating", ["sg", "create", "corpus-unreachable"], "127.0.0.1:9", expect=3,
             env={"SGPCTL_ENDPOINT": "http://127.0.0.1:9"}),
        Case("env:unreachable-kube", ["verify", "pods", "-A"], "cannot reach the Kubernetes API server", expect=3,
             env={"KUBECONFIG": kc + "unreachable"}),
        Case("env:unreachable-kube-with-credentials", ["policy", "list", "-A"], "https://***@127.0.0.1:9", expect=3,
             env={"KUBECONFIG": kc + "unreachable-userinfo"}),
        Case("env:wrong-kube-token", ["policy", "apply", "-f", "{dir}/good.yaml"], "401", expect=3, env={"KUBECONFIG": kc + "wrong-token"}),
    ]
    return cases


CASES = file_cases() + flag_cases() + traversal_cases() + env_cases()


def test_the_corpus_is_large_and_holds_the_reviews_failures():
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)
    numbers = {int(m.group(1)) for c in CASES for m in [re.match(r"review-(\d+):", c.id)] if m}
    assert numbers == set(range(1, 32)), sorted(set(range(1, 32)) - numbers)


# -- the run ----------------------------------------------------------------------------------------

def _kubeconfigs(sb, base: Path, directory: Path) -> None:
    import yaml

    good = yaml.safe_load(base.read_text())
    directory.mkdir()

    def variant(name: str, change) -> None:
        doc = json.loads(json.dumps(good))
        change(doc)
        (directory / name).write_text(yaml.safe_dump(doc))

    (directory / "garbage").write_text("this: is: not: [a kubeconfig")
    (directory / "hostname").write_text("sandbox-host.example\n")
    (directory / "empty").write_text("")
    variant("no-contexts", lambda d: d.update(contexts=[]))
    variant("clusters-int", lambda d: d.update(clusters=5))
    (directory / "binary").write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n")
    (directory / "bomb").write_text(laughs(9))
    variant("bad-namespace", lambda d: d["contexts"][0]["context"].update(namespace="Bad_NS"))
    variant("unreachable", lambda d: d["clusters"][0]["cluster"].update(server="https://127.0.0.1:9"))
    variant("unreachable-userinfo", lambda d: d["clusters"][0]["cluster"].update(server="https://admin:KUBEPASSWORD@127.0.0.1:9"))
    variant("wrong-token", lambda d: d["users"][0]["user"].update(token="wrong-token"))


def _digest(sb) -> str:
    sb.settle()
    state = {"kube": sb.kube.to_dict(), "cloud": sb.cloud.to_dict()}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


def _successful_mutations(sb, mark: int) -> list[dict]:
    out = []
    for e in sb.log.since(mark, mutating=True):
        ok = 200 <= e["status"] < 300 and (e["api"] == "kube" or e["code"] == "OK")
        if ok:
            out.append(e)
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    with running_sandbox("default") as sb:
        sgp_ready(sb)
        create_sgp(sb, "existing", [group_id(sb, "web")], {"app": "web"})
        sb.kube.create("configmaps", {"metadata": {"name": VICTIM, "namespace": NS}, "data": {"keep": "me"}})
        env = sandbox_env(sb, root, SGPCTL_RETRY_BASE_DELAY="0", SGPCTL_RETRY_MAX_DELAY="0", SGPCTL_RETRY_MAX_ATTEMPTS="2",
                          SGPCTL_API_TIMEOUT="10")
        env.pop("COLUMNS", None)
        sgs = {"sg": group_id(sb, "web"), "sg2": group_id(sb, "db"), "sg3": group_id(sb, "default")}
        files = root / "files"
        files.mkdir()
        (files / "empty-dir").mkdir()
        for name, (content, _) in {**FILES, **APPLY_ONLY, "good.yaml": (GOOD, "")}.items():
            if isinstance(content, str):
                content = content.replace("{sg}", sgs["sg"]).replace("{sg2}", sgs["sg2"]).replace("{sg3}", sgs["sg3"])
                content = content.encode("utf-8")
            (files / name).write_bytes(content)
        _kubeconfigs(sb, Path(env["KUBECONFIG"]), files / "kubeconfigs")
        homes = {"bad-profile": root / "home-bad-profile"}
        (homes["bad-profile"] / ".tccli").mkdir(parents=True)
        (homes["bad-profile"] / ".tccli" / "default.credential").write_text("{bad")
        (homes["bad-profile"] / ".tccli" / "default.configure").write_text("garbage")
        examples = Path(__file__).resolve().parents[2] / "examples"

        def fill(arg: str) -> str:
            return arg.replace("{dir}", str(files)).replace("{examples}", str(examples)).replace("{sg}", sgs["sg"])

        def run(case: Case):
            case_env = dict(env)
            if case.home:
                case_env["HOME"] = str(homes[case.home])
            for k, v in case.env.items():
                if v is None:
                    case_env.pop(k, None)
                else:
                    case_env[k] = fill(v)
            command = [SGPCTL, *[fill(a) for a in case.args]]
            if case.memory_limit:  # the child caps itself, then becomes sgpctl
                command = [sys.executable, "-c", "import os, resource, sys; "
                           f"resource.setrlimit(resource.RLIMIT_AS, ({case.memory_limit}, {case.memory_limit})); "
                           "os.execv(sys.argv[1], sys.argv[1:])", *command]
            proc = subprocess.run(command, env=case_env, input=case.stdin, capture_output=True, timeout=120)
            return case.id, (proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))

        before, mark = _digest(sb), sb.log.mark()
        with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
            results = dict(pool.map(run, CASES))
        if os.environ.get("SGPCTL_CORPUS_REPORT"):  # every case's output, for reading them all at once
            with open(os.environ["SGPCTL_CORPUS_REPORT"], "w", encoding="utf-8") as f:
                for case in CASES:
                    rc, _, err = results[case.id]
                    f.write(json.dumps({"id": case.id, "args": [fill(a) for a in case.args], "rc": rc, "stderr": err}) + "\n")
        yield {"results": results, "sandbox": sb, "before": before, "after": _digest(sb), "mark": mark,
               "secrets": [sb.secret_key, sb.kube_token, "CORPUSKEY", "KUBEPASSWORD"], "env": env,
               "bad_profile_home": homes["bad-profile"]}


def _form_ok(form: str, lines: list[str]) -> bool:
    if not lines:
        return False
    one_line = lines[0].startswith("error: ") and (len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")))
    if form == "one-line":
        return one_line
    if form == "usage":
        return len(lines) == 2 and lines[0].startswith("error: ") and re.fullmatch(r"hint: see `sgpctl[ a-z-]*--help`", lines[1]) is not None
    problem_list = (len(lines) >= 2 and PROBLEM_LIST_END.match(lines[-1]) is not None
                    and all(line.startswith("error: ") for line in lines[:-1]))
    if form == "problem-list":
        return problem_list
    # "listed": apply lists the problems it found offline (problem-list form), or those it found
    # against the cluster (error lines, the last with "(and N more problems)", and one hint), or one line
    errors_then_hint = (len(lines) >= 2 and lines[-1].startswith("hint: ")
                        and all(line.startswith("error: ") for line in lines[:-1]))
    return problem_list or one_line or errors_then_hint


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case, corpus):
    rc, out, err = corpus["results"][case.id]
    lines = err.splitlines()
    assert rc == case.expect, (rc, err)
    assert "Traceback" not in err and "Usage:" not in err, err
    assert _form_ok(case.form, lines), err
    assert all(line.isprintable() for line in lines), err
    assert case.needle in err, err
    for secret in corpus["secrets"]:
        assert secret not in out + err


def test_nothing_changed(corpus):
    sb = corpus["sandbox"]
    assert _successful_mutations(sb, corpus["mark"]) == []
    assert corpus["after"] == corpus["before"]
    # the review's exploit target and the policy every traversal string aimed around
    assert sb.kube.get("configmaps", NS, VICTIM)["data"] == {"keep": "me"}
    assert sb.kube.get(SGP, NS, "existing") is not None


def test_a_broken_profile_does_not_stop_a_command_that_needs_nothing_from_it(corpus):
    """The environment has credentials and a region: ~/.tccli/default.* is not read, broken or not."""
    env = dict(corpus["env"], HOME=str(corpus["bad_profile_home"]))
    for args in (["verify", "pods", "-A", "-o", "json"], ["cam", "status", "-o", "json"], ["config", "view"]):
        proc = subprocess.run([SGPCTL, *args], env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode in (0, 1), proc.stderr  # a check may fail; nothing about the profile
        assert "tccli" not in proc.stderr and ".tccli" not in proc.stderr, proc.stderr


def test_the_kube_adapter_refuses_traversal_before_any_request(corpus, tmp_path):
    """Below the CLI, in the one place every path is built: the exploit's name cannot be sent."""
    from sgpctl.errors import InputError
    from sgpctl.kube import resources as r
    from sgpctl.kube.client import Kube

    sb = corpus["sandbox"]
    sb.write_files(tmp_path)
    kube = Kube.from_kubeconfig(str(tmp_path / "kubeconfig"))
    sgp = kube.resource(r.SGP_GROUP, r.SGP_KIND)
    calls = kube.calls
    for name in TRAVERSAL:
        with pytest.raises(InputError):
            kube.delete(sgp, name, NS)
        with pytest.raises(InputError):
            kube.get(r.CONFIGMAPS, "victim", name)
    assert kube.calls == calls
    # the lenient rule of legacy Events still cannot leave its segment: '?' and '#' are encoded
    assert r.EVENTS.object_path("a?b#c d", NS) == f"/api/v1/namespaces/{NS}/events/a%3Fb%23c%20d"
    assert sb.kube.get("configmaps", NS, VICTIM) is not None


def test_the_memory_limit_leaves_room_for_a_normal_run(tmp_path):
    """The control for the memory-limit cases: under the same cap a real policy file validates, so
    a refusal there is the loader's answer, not the cap's."""
    examples = Path(__file__).resolve().parents[2] / "examples"
    code = ("import os, resource, sys; "
            f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_LIMIT}, {MEMORY_LIMIT})); os.execv(sys.argv[1], sys.argv[1:])")
    from tests.support import clean_env

    proc = subprocess.run([sys.executable, "-c", code, SGPCTL, "policy", "validate", "-f", str(examples / "policy.yaml")],
                          env=clean_env(HOME=str(tmp_path)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
