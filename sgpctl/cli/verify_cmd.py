from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import (AllNamespaces, FailOn, Namespace, Output, Selector, Watch, check_pod_name, check_policy_name,
                                fail_on_warning, label_selector, namespace_scope)
from sgpctl.errors import ExitCode, InputError
from sgpctl.render.output import OutputFormat

app = typer.Typer(help="Pod -> annotation -> VpcENI -> ENI groups.\n\nVerify Pods end to end: policy -> annotation -> VpcENI -> the cloud ENI's groups.", no_args_is_help=True)

ExpectSg = Annotated[Optional[list[str]], typer.Option("--expect-sg", help="Security group the Pod must have (repeatable).")]


def _check_expect(expect_sg):
    from sgpctl.core.policy import GROUP_ID_RE

    for g in expect_sg or []:
        if not GROUP_ID_RE.match(g):
            raise InputError(f"--expect-sg {g!r} is not a security group id", hint="e.g. --expect-sg sg-1a2b3c4d")
    return list(expect_sg) if expect_sg else None


@app.command("pod")
def pod(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Pod name.", callback=check_pod_name)],
    namespace: Namespace = None,
    expect_sg: ExpectSg = None,
    fail_on: FailOn = "error",
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Verify one Pod: not hostNetwork; annotated tke-sub-eni; requests tke.cloud.tencent.com/sub-eni;
    its security-group annotation equals what the policies give it (and --expect-sg); its VpcENI
    (found by the pod-name/pod-namespace labels) names an ENI; that ENI exists in VPC with the same
    groups; its node's family supports Trunking ENI; its groups let through the traffic it needs
    (kubelet probes, DNS, Services, declared egress: `sgpctl traffic check` for one Pod, under the
    current routing). A stale Pod fails with the rollout command.

    Exit 0 verified (warnings allowed unless --fail-on warning), 1 a check failed, 2 bad input,
    3 could not determine.

    Example: sgpctl verify pod nginx-7d9c8b6f5-x2k4q -n my-namespace --expect-sg sg-xxxxyyyy
    """
    from sgpctl.render.verify import pod_footer
    from sgpctl.workflows.verify import verify_one

    expect = _check_expect(expect_sg)
    strict = fail_on_warning(fail_on)
    app_ = get_app(ctx)
    ns = namespace or app_.context_namespace()
    cloud = app_.cloud()
    result = verify_one(app_.view(ns), cloud.vpc, name, ns, expect_sg=expect, cloud=cloud,
                        cluster_id=app_.settings.cluster_id.value)
    return app_.out.checks(result.checks, output, fail_on_warning=strict, document=lambda _: result.to_dict(),
                           footer=pod_footer(result), items="checks", kind="check")


@app.command("pods")
@fleet_options
def pods(
    ctx: typer.Context,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    selector: Selector = None,
    policy: Annotated[Optional[str], typer.Option("--policy", help="Only the Pods this policy selects.", callback=check_policy_name)] = None,
    expect_sg: ExpectSg = None,
    fail_on: FailOn = "error",
    watch: Watch = False,
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    """Verify every Pod a SecurityGroupPolicy selects (the same checks as `verify pod`): one line per
    Pod, its problems beneath it, and a summary per namespace. Reads the cluster with a constant number
    of list calls and the cloud with one DescribeNetworkInterfaces per 100 ENIs.

    Exit 0 all verified (warnings allowed unless --fail-on warning), 1 any failure, 2 bad input,
    3 could not determine.

    With -w, verify again every 2 s and print each Pod whose verdict changed (Ctrl-C stops).

    Examples:

      sgpctl verify pods -A -o json

      sgpctl verify pods -n my-namespace -w

      sgpctl verify pods -A --all-clusters --regions all
    """
    from sgpctl.render.verify import pod_state, pods_footer, pods_line
    from sgpctl.workflows.verify import verify_pods

    selector = label_selector(selector)
    expect = _check_expect(expect_sg)
    strict = fail_on_warning(fail_on)
    app_ = get_app(ctx)
    if fleet.active:
        from sgpctl.cli.fleet import fleet_scope, run_fleet_command
        from sgpctl.workflows.fleet import check_result

        scope = fleet_scope(namespace, all_namespaces)

        def per_cluster(a):
            report = verify_pods(a.view(scope(a), pod_selector=selector), a.cloud().vpc, policy=policy, expect_sg=expect)
            s = report.summary()
            return check_result(list(report.results()), report.to_dict(strict), fail_on_warning=strict, notes=report.notes,
                                summary=f"{s['pods']} policy Pod(s): {s['ok']} ok, {s['stale']} stale, {s['failed']} failed"
                                        + (f", {s['warnings']} with warnings" if s["warnings"] else ""))

        return run_fleet_command(app_, fleet, per_cluster, output)
    ns = namespace_scope(app_, namespace, all_namespaces)

    def read():
        return verify_pods(app_.view(ns, pod_selector=selector), app_.cloud().vpc, policy=policy, expect_sg=expect)

    if watch:
        from sgpctl.cli.watching import watch as follow

        def poll():
            rep = read()
            return pods_line(rep.summary()), {f"{p.namespace}/{p.name}": pod_state(p) for p in rep.pods}

        return follow(app_, poll)
    report = read()
    # The footer's summary and next steps are worked out only for the table that shows them.
    return app_.out.checks(list(report.results()), output, fail_on_warning=strict, document=lambda _: report.to_dict(strict),
                           footer=lambda term: pods_footer(report.summary(), report.notes, report.next_steps())(term),
                           items="pods", kind="pod")
