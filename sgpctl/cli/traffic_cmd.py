"""`sgpctl traffic ...`: will the Pods' security groups let their traffic through (explain, check)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sgpctl.cli.context import get_app
from sgpctl.cli.fleet import NO_FLEET, FleetOptions, fleet_options
from sgpctl.cli.options import AllNamespaces, FailOn, Namespace, Output, fail_on_warning, namespace_scope
from sgpctl.errors import ExitCode
from sgpctl.render.output import OutputFormat


def _routing(value: str | None) -> str | None:
    from sgpctl.core.addon_values import routing_mode

    return None if value is None else routing_mode(value, flag="--routing")


app = typer.Typer(help="Will a flow pass the Pods' groups? explain, check.\n\n"
                       "Reason about Pod traffic with Tencent Cloud's security-group rules: first match "
                       "decides, groups in bound order, stateful, and the routing mode.", no_args_is_help=True)

Routing = Annotated[Optional[str], typer.Option("--routing", metavar="strict|standard", callback=_routing,
                                                help="What if: judge every Pod as rebuilt under this routing mode.")]


@app.command("explain")
def explain(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="pod/NS/NAME, node/NAME or ip/ADDR.")],
    destination: Annotated[str, typer.Argument(metavar="TO", help="pod/NS/NAME, node/NAME, ip/ADDR or service/NS/NAME.")],
    port: Annotated[Optional[int], typer.Option("--port", "-p", help="Destination port (a Service's port for service/...; for icmp, the type).")] = None,
    protocol: Annotated[str, typer.Option("--protocol", metavar="tcp|udp|icmp", help="Protocol.")] = "tcp",
    routing: Routing = None,
    output: Output = OutputFormat.table,
) -> ExitCode:
    """Will this flow pass, and which rule decides? Evaluates the source's egress and the
    destination's ingress, each on its own ENI with its groups in bound order (a running Pod's from
    its ENI's GroupSet; a Pod not yet on a sub-ENI: predicted from the policies), rules top to
    bottom, first match decides, nothing matched: dropped. Says whether a hop is filtered at all
    (standard routing: a Pod and its own node, and Pods on one node, bypass the Pod's groups) and,
    for a dropped flow, the rule to add. A Service is resolved to its IP and its ready Pods on the
    target port.

    Exit 0 the flow passes, 1 it is dropped, 2 bad input, 3 it could not be decided.

    Examples:

      sgpctl traffic explain node/10.0.0.10 pod/web/web-0 --port 8080

      sgpctl traffic explain pod/shop/client-1 service/shop/api --port 80 -o json

      sgpctl traffic explain pod/shop/web-1 ip/10.2.0.5 --protocol udp --port 53 --routing strict
    """
    from sgpctl.render.traffic import render_explain
    from sgpctl.workflows.traffic_explain import explain_flow

    app_ = get_app(ctx)
    result = explain_flow(app_.view(None), app_.cloud(), app_.settings.require_cluster_id(), source, destination,
                          protocol=protocol, port=port, what_if=routing)
    data = result.to_dict()
    app_.out.emit(data, output, lambda term: render_explain(term, data), items="hops")
    return result.exit_code()


@app.command("check")
@fleet_options
def check(
    ctx: typer.Context,
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    routing: Routing = None,
    fail_on: FailOn = "error",
    output: Output = OutputFormat.table,
    fleet: FleetOptions = NO_FLEET,
) -> ExitCode:
    """For every Pod a SecurityGroupPolicy selects: will its groups let through the flows it needs?
    Kubelet probes from its node (HTTP, TCP, gRPC), DNS to the cluster DNS Service and its Pods (UDP
    and TCP), Services that select it (ClusterIP clients that declare it, NodePort and LoadBalancer
    from the nodes or the load balancer's sources) and the egress it declares in the annotation
    sgpctl.io/egress. One check per flow, per Pod, with a stable id and, when dropped, the exact rule
    to add (a CreateSecurityGroupPolicies request, ports explicit, the node subnets as the source).
    --routing answers "what if" for a switch of the routing mode.

    Exit 0 every flow passes (warnings allowed unless --fail-on warning), 1 one is dropped, 2 bad
    input, 3 one could not be decided.

    Examples:

      sgpctl traffic check -A

      sgpctl traffic check -n web --routing strict -o json

      sgpctl traffic check -A --all-clusters --regions ap-guangzhou,ap-shanghai
    """
    from sgpctl.render.traffic import check_footer
    from sgpctl.workflows.traffic import traffic_check

    strict = fail_on_warning(fail_on)
    app_ = get_app(ctx)
    if fleet.active:
        from sgpctl.cli.fleet import fleet_scope, run_fleet_command
        from sgpctl.render.traffic import check_summary
        from sgpctl.workflows.fleet import check_result

        scope = fleet_scope(namespace, all_namespaces)

        def per_cluster(a):
            report = traffic_check(a.view(scope(a)), a.cloud(), a.settings.require_cluster_id(), what_if=routing)
            return check_result(report.results(), report.to_dict(strict), fail_on_warning=strict,
                                summary=check_summary(report), notes=report.notes)

        return run_fleet_command(app_, fleet, per_cluster, output)
    ns = namespace_scope(app_, namespace, all_namespaces)
    report = traffic_check(app_.view(ns), app_.cloud(), app_.settings.require_cluster_id(), what_if=routing)
    # -o junit: one testcase per check (a testsuite per Pod); -o name and custom-columns: one line per Pod,
    # as `verify pods`
    return app_.out.checks(report.results(), output, fail_on_warning=strict, document=lambda _: report.to_dict(strict),
                           footer=check_footer(report), items="pods", kind="pod")
