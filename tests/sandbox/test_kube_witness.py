"""The witness suite: the machine's kubectl against a whole sandbox (controllers included), doing what
a platform engineer does next after the TKE document: install a chart-like bundle and tear it down,
explain, auth can-i, invalid objects, immutable fields, server-side apply, logs, and the refusals.
Expected outputs are kubectl's and kube-apiserver's own wording."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from tests.sandbox_support import KUBECTL, running_sandbox, sandbox_env

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

BUNDLE = textwrap.dedent("""\
    apiVersion: v1
    kind: Namespace
    metadata: {name: chart}
    ---
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: web, namespace: chart}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: web, namespace: chart}
    rules:
    - apiGroups: [""]
      resources: [configmaps]
      verbs: [get, list, watch]
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: RoleBinding
    metadata: {name: web, namespace: chart}
    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web}
    subjects: [{kind: ServiceAccount, name: web, namespace: chart}]
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: chart, labels: {app: web}}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          serviceAccountName: web
          containers:
          - name: web
            image: nginx:1.25
            ports: [{containerPort: 80}]
            resources: {requests: {cpu: 0.5, memory: 1024Mi}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: chart}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 80}]
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web, namespace: chart}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 2
      maxReplicas: 5
      metrics:
      - type: Resource
        resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: chart}
    spec:
      minAvailable: 1
      selector: {matchLabels: {app: web}}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata: {name: migrate, namespace: chart}
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: migrate, image: "busybox:1.36", command: [sh, -c, echo migrated]}
    """)

DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: %(name)s, namespace: witness}
    spec:
      %(spec)s
      selector: {matchLabels: {app: %(name)s}}
      template:
        metadata: {labels: {app: %(labels)s}}
        spec:
          containers:
          - {name: %(container)s, image: "nginx:1.25"%(extra)s}
    """)


def deployment(name: str, spec: str = "replicas: 1", labels: str | None = None, container: str = "nginx",
               extra: str = "") -> str:
    return DEPLOYMENT % {"name": name, "spec": spec, "labels": labels or name, "container": container,
                         "extra": extra}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox("default") as sb:
        env = sandbox_env(sb, tmp_path_factory.mktemp("witness"))

        def kubectl(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
            return subprocess.run([KUBECTL, *args], env=env, input=input, capture_output=True, text=True, timeout=60)

        kubectl("create", "namespace", "witness")
        yield sb, kubectl


def test_a_chart_like_bundle_applies_runs_and_deletes(sandbox):
    sb, kubectl = sandbox
    r = kubectl("apply", "-f", "-", input=BUNDLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "namespace/chart created", "serviceaccount/web created", "role.rbac.authorization.k8s.io/web created",
        "rolebinding.rbac.authorization.k8s.io/web created", "deployment.apps/web created", "service/web created",
        "horizontalpodautoscaler.autoscaling/web created", "poddisruptionbudget.policy/web created",
        "job.batch/migrate created"]
    sb.settle()
    assert kubectl("wait", "--for=condition=complete", "job/migrate", "-n", "chart", "--timeout=10s").returncode == 0
    jobs = kubectl("get", "jobs", "-n", "chart").stdout.split()
    assert jobs[:5] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"] and jobs[5:8] == ["migrate", "Complete",
                                                                                              "1/1"]
    # The quantities the bundle gave as 0.5 and 1024Mi are stored canonical.
    resources = json.loads(kubectl("get", "deploy/web", "-n", "chart", "-o",
                                   "jsonpath={.spec.template.spec.containers[0].resources}").stdout)
    assert resources == {"requests": {"cpu": "500m", "memory": "1Gi"}}
    # Endpoints follow the Service's ready Pods: two addresses on port 80.
    ips = sorted(kubectl("get", "pods", "-n", "chart", "-l", "app=web", "-o",
                         "jsonpath={.items[*].status.podIP}").stdout.split())
    slice_ = json.loads(kubectl("get", "endpointslices", "-n", "chart", "-l", "kubernetes.io/service-name=web",
                                "-o", "json").stdout)["items"][0]
    assert sorted(a for e in slice_["endpoints"] for a in e["addresses"]) == ips and slice_["ports"][0]["port"] == 80
    assert "80" in kubectl("describe", "svc", "web", "-n", "chart").stdout.split("Endpoints:")[1].splitlines()[0]
    # RBAC is evaluated for reviews: the bundle's Role lets its ServiceAccount read ConfigMaps only.
    sa = "system:serviceaccount:chart:web"
    assert kubectl("auth", "can-i", "list", "configmaps", "-n", "chart", "--as", sa).stdout.strip() == "yes"
    denied = kubectl("auth", "can-i", "list", "secrets", "-n", "chart", "--as", sa)
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    r = kubectl("delete", "-f", "-", input=BUNDLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == 'namespace "chart" deleted' and len(r.stdout.splitlines()) == 9
    assert kubectl("get", "ns", "chart").returncode == 1  # delete waits for the namespace to finish


def test_explain_built_in_kinds_and_crds(sandbox):
    sb, kubectl = sandbox
    r = kubectl("explain", "deployment.spec.replicas")
    assert r.returncode == 0, r.stderr
    assert "FIELD: replicas <integer>" in r.stdout and "Number of desired pods" in r.stdout
    r = kubectl("explain", "deployment.spec.strategy", "--recursive")
    assert r.returncode == 0, r.stderr
    assert "rollingUpdate\t<RollingUpdateDeployment>" in r.stdout and "type\t<string>" in r.stdout
    r = kubectl("explain", "vpceni")
    assert r.returncode == 0, r.stderr
    assert "KIND:       VpcENI" in r.stdout


def test_auth_can_i_whoami_and_create_token(sandbox):
    sb, kubectl = sandbox
    r = kubectl("auth", "can-i", "create", "deployments")
    assert (r.returncode, r.stdout.strip()) == (0, "yes")
    r = kubectl("auth", "whoami", "-o", "json")
    assert json.loads(r.stdout)["status"]["userInfo"]["groups"] == ["system:masters", "system:authenticated"]
    token = kubectl("create", "token", "default", "-n", "witness").stdout.strip()
    assert token.count(".") == 2
    review = kubectl("create", "-o", "json", "-f", "-", input=json.dumps({
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}))
    status = json.loads(review.stdout)["status"]
    assert status["authenticated"] is True and status["user"]["username"] == "system:serviceaccount:witness:default"


@pytest.mark.parametrize("manifest,message", [
    (deployment("typo", spec="replica: 2"),
     'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a '
     'Deployment: strict decoding error: unknown field "spec.replica"'),
    (deployment("two", spec='replicas: "two"'),
     'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a '
     'Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32'),
    (deployment("neg", spec="replicas: -1"),
     'The Deployment "neg" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'),
    (deployment("mismatch", labels="other"),
     'The Deployment "mismatch" is invalid: spec.template.metadata.labels: Invalid value: '
     'map[string]string{"app":"other"}: `selector` does not match template `labels`'),
    (deployment("ports", container="C_bad", extra=", ports: [{containerPort: 70000}]"),
     'The Deployment "ports" is invalid: \n* spec.template.spec.containers[0].name: Invalid value: "C_bad": a '
     "lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'"),
])
def test_invalid_objects_are_refused_with_the_servers_message(sandbox, manifest, message):
    sb, kubectl = sandbox
    r = kubectl("apply", "-f", "-", input=manifest)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    name = manifest.split("name: ", 1)[1].split("}", 1)[0].split(",")[0]
    assert kubectl("get", "deploy", name, "-n", "witness").returncode == 1  # nothing stored
    sb.settle()  # and no controller crashed on it


def test_field_validation_warn_drops_unknown_fields(sandbox):
    sb, kubectl = sandbox
    r = kubectl("apply", "--validate=warn", "-f", "-", input=deployment("warned", spec="replica: 3"))
    assert r.returncode == 0 and 'Warning: unknown field "spec.replica"' in r.stderr
    spec = json.loads(kubectl("get", "deploy", "warned", "-n", "witness", "-o", "json").stdout)["spec"]
    assert "replica" not in spec and spec["replicas"] == 1


def test_immutable_fields_are_refused(sandbox):
    sb, kubectl = sandbox
    assert kubectl("apply", "-f", "-", input=deployment("fixed")).returncode == 0
    r = kubectl("patch", "deploy", "fixed", "-n", "witness", "--type=merge", "-p",
                '{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}')
    assert r.returncode == 1
    assert ('The Deployment "fixed" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:'
            'map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is '
            'immutable') in r.stderr
    assert kubectl("create", "service", "clusterip", "fixed", "-n", "witness", "--tcp=80:80").returncode == 0
    r = kubectl("patch", "svc", "fixed", "-n", "witness", "--type=merge", "-p", '{"spec":{"clusterIP":"10.96.200.1"}}')
    assert r.returncode == 1 and "spec.clusterIPs[0]: Invalid value: []string{\"10.96.200.1\"}: may not change " \
                                 "once set" in r.stderr
    sb.settle()
    pod = kubectl("get", "pods", "-n", "witness", "-l", "app=fixed", "-o", "name").stdout.split()[0]
    r = kubectl("patch", pod, "-n", "witness", "-p", '{"spec":{"restartPolicy":"Never"}}')
    assert r.returncode == 1 and "spec: Forbidden: pod updates may not change fields other than" in r.stderr


def test_server_side_apply_round_trip(sandbox):
    sb, kubectl = sandbox
    cm = textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ssa, namespace: witness, labels: {tier: web}}
        data: {a: "1", b: "2"}
        """)
    r = kubectl("apply", "--server-side", "-f", "-", input=cm)
    assert (r.returncode, r.stdout.strip()) == (0, "configmap/ssa serverside-applied")
    other = textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ssa, namespace: witness}
        data: {b: "3"}
        """)
    r = kubectl("apply", "--server-side", "--field-manager=other", "-f", "-", input=other)
    assert r.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .data.b' in r.stderr
    r = kubectl("apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-", input=other)
    assert r.returncode == 0
    got = json.loads(kubectl("get", "cm", "ssa", "-n", "witness", "-o", "json", "--show-managed-fields").stdout)
    assert got["data"] == {"a": "1", "b": "3"}
    assert sorted(e["manager"] for e in got["metadata"]["managedFields"]) == ["kubectl", "other"]
    # kubectl no longer applies the label nor data.a: both go (nobody else owns them).
    r = kubectl("apply", "--server-side", "-f", "-", input=textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ssa, namespace: witness}
        data: {}
        """))
    assert r.returncode == 0, r.stderr
    got = json.loads(kubectl("get", "cm", "ssa", "-n", "witness", "-o", "json").stdout)
    assert got.get("data") == {"b": "3"} and "labels" not in got["metadata"]


def test_logs_show_what_the_simulated_kubelet_did_and_exec_is_refused_cleanly(sandbox):
    sb, kubectl = sandbox
    assert kubectl("apply", "-f", "-", input=deployment("logged")).returncode == 0
    sb.settle()
    r = kubectl("logs", "deploy/logged", "-n", "witness")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any("Started container nginx" in line for line in lines)
    assert lines[-1].endswith("is simulated: no process runs, so it writes no log of its own")
    r = kubectl("exec", "deploy/logged", "-n", "witness", "--", "ls")
    assert r.returncode == 1
    assert "pods/exec is not supported by the sgpctl sandbox" in r.stderr
    r = kubectl("debug", "deploy/logged", "-n", "witness", "--image=busybox")
    assert r.returncode == 1 and "panic" not in r.stderr


def test_rollout_history_of_statefulsets_and_daemonsets(sandbox):
    sb, kubectl = sandbox
    r = kubectl("rollout", "history", "ds/tke-eni-agent", "-n", "kube-system")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:3] == ["daemonset.apps/tke-eni-agent", "REVISION", "CHANGE-CAUSE"]
    sts = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: witness}
        spec:
          serviceName: db
          replicas: 1
          selector: {matchLabels: {app: db}}
          template:
            metadata: {labels: {app: db}}
            spec:
              containers: [{name: db, image: "postgres:16"}]
        """)
    assert kubectl("apply", "-f", "-", input=sts).returncode == 0
    sb.settle()
    assert kubectl("set", "image", "sts/db", "db=postgres:17", "-n", "witness").returncode == 0
    sb.settle()
    history = kubectl("rollout", "history", "sts/db", "-n", "witness")
    assert history.returncode == 0, history.stderr
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()] == ["1", "2"]
    assert kubectl("rollout", "undo", "sts/db", "-n", "witness").returncode == 0
    image = kubectl("get", "sts", "db", "-n", "witness", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == "postgres:16"


def test_the_sgp_crd_schema_variant_makes_kubectl_refuse_a_bad_policy(tmp_path):
    from tests.sandbox_support import sgp_ready

    with running_sandbox("default", variants={"sgp-crd-schema": "strict"}) as sb:
        sgp_ready(sb)
        env = sandbox_env(sb, tmp_path)
        policy = textwrap.dedent("""\
            apiVersion: vpcresources.tke.cloud.tencent.com/v1beta1
            kind: SecurityGroupPolicy
            metadata: {name: typo, namespace: default}
            spec:
              podSelectors: {matchLabels: {app: web}}
              securityGroups: {groupIds: [sg-1]}
            """)
        r = subprocess.run([KUBECTL, "apply", "-f", "-"], env=env, input=policy, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 1 and 'strict decoding error: unknown field "spec.podSelectors"' in r.stderr
        r = subprocess.run([KUBECTL, "explain", "sgp.spec.securityGroups.groupIds"], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "<[]string>" in r.stdout
