"""The fleet options, declared once, and the one way a command runs over many clusters.

``@fleet_options`` adds ``--all-clusters``, ``--clusters ID,ID``, ``--regions R1,R2|all``,
``--parallel N`` and ``--cluster-timeout DURATION`` to a command and hands them to it as one
``fleet: FleetOptions`` argument. The command defines what it does with one cluster - a function of
that cluster's ``App`` returning a ``workflows.fleet.ClusterResult`` - and, when ``fleet.active``,
returns ``run_fleet_command(app, fleet, per_cluster, output)``: discovery, each cluster's Kubernetes
access, bounded concurrency, per-cluster deadlines and errors, the consolidated table or JSON and
the worst exit code, the same for every command.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Optional

import typer

from sgpctl.errors import ExitCode, InputError

PANEL = "Fleet"
DEFAULT_TIMEOUT = "5m"


@dataclass(frozen=True)
class FleetOptions:
    all_clusters: bool = False
    clusters: str | None = None
    regions: str | None = None
    parallel: int = 4
    cluster_timeout: str = DEFAULT_TIMEOUT

    @property
    def active(self) -> bool:
        return self.all_clusters or bool(self.clusters)


NO_FLEET = FleetOptions()

_PARAMS = [
    inspect.Parameter("all_clusters", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--all-clusters", rich_help_panel=PANEL,
        help="Every TKE cluster the credentials see in the region (or in --regions), each with its own result.")]),
    inspect.Parameter("clusters", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        "--clusters", metavar="ID,ID", rich_help_panel=PANEL,
        help="These clusters (looked up in the region, or in --regions).")]),
    inspect.Parameter("regions", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        "--regions", metavar="R1,R2|all", rich_help_panel=PANEL,
        help="With --all-clusters/--clusters: these regions (all: every region TKE offers).")]),
    inspect.Parameter("parallel", inspect.Parameter.KEYWORD_ONLY, default=4, annotation=Annotated[int, typer.Option(
        "--parallel", metavar="N", min=1, max=32, rich_help_panel=PANEL, help="Clusters worked on at once.")]),
    inspect.Parameter("cluster_timeout", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_TIMEOUT, annotation=Annotated[str, typer.Option(
        "--cluster-timeout", metavar="DURATION", rich_help_panel=PANEL,
        help="Give up on a cluster after this long (its row says so; the others go on).")]),
]
_NAMES = [p.name for p in _PARAMS]


def fleet_options(fn: Callable) -> Callable:
    """Add the fleet options to a command whose function takes ``fleet: FleetOptions``."""
    signature = inspect.signature(fn, eval_str=True)
    params = [p for p in signature.parameters.values() if p.name != "fleet"]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        fleet = FleetOptions(**{name: kwargs.pop(name) for name in _NAMES})
        if not fleet.active:
            alone = [flag for flag, given in (("--regions", fleet.regions is not None),
                                              ("--parallel", fleet.parallel != NO_FLEET.parallel),
                                              ("--cluster-timeout", fleet.cluster_timeout != NO_FLEET.cluster_timeout)) if given]
            if alone:
                raise InputError(f"{alone[0]} goes with --all-clusters or --clusters",
                                 hint=f"e.g. --all-clusters {alone[0]} ...")
        return fn(*args, fleet=fleet, **kwargs)

    command.__signature__ = signature.replace(parameters=[*params, *_PARAMS])
    command.__annotations__ = {p.name: p.annotation for p in [*params, *_PARAMS]}
    if signature.return_annotation is not inspect.Signature.empty:
        command.__annotations__["return"] = signature.return_annotation
    return command


def fleet_scope(namespace: str | None, all_namespaces: bool, *, all_by_default: bool = False) -> Callable[[Any], str | None]:
    """-n/-A over a fleet: checked now, before any cluster is read; then ``scope(cluster_app)`` is that
    cluster's namespace scope (``options.namespace_scope``: without -n/-A, its own context's namespace)."""
    from sgpctl.cli.options import check_namespace_flags, namespace_scope

    check_namespace_flags(namespace, all_namespaces)
    return lambda a: namespace_scope(a, namespace, all_namespaces, all_by_default=all_by_default)


def refuse_with_fleet(fleet: FleetOptions, option: str, given: bool) -> None:
    if fleet.active and given:
        raise InputError(f"{option} does not go with --all-clusters/--clusters", hint=f"run {option} per cluster")


def run_fleet_command(app, fleet: FleetOptions, per_cluster: Callable[[Any], Any], output) -> ExitCode:
    """Run ``per_cluster(cluster_app)`` over the fleet and emit the consolidated answer."""
    from sgpctl.cli.errors import clean, translate
    from sgpctl.core import names
    from sgpctl.core.durations import parse_duration
    from sgpctl.core.fleet import split_list
    from sgpctl.errors import SgpctlError
    from sgpctl.render.fleet import render_fleet
    from sgpctl.render.output import OutputFormat, parse_output
    from sgpctl.workflows.fleet import ClusterOutcome, all_regions, choose_access, discover, run_fleet

    if fleet.all_clusters and fleet.clusters:
        raise InputError("--all-clusters and --clusters are mutually exclusive", hint="pass one of them")
    if parse_output(output).form is OutputFormat.junit:
        # One JUnit report per cluster has no place in the consolidated answer: refused before any read.
        raise InputError("-o junit does not go with --all-clusters/--clusters",
                         hint="use -o json (each cluster's checks are under clusters[].result), or -o junit per cluster")
    if app.flags.context:
        raise InputError("--context does not go with --all-clusters/--clusters: each cluster's context is the one "
                         "whose server is its endpoint", hint="drop --context")
    try:
        timeout = parse_duration(fleet.cluster_timeout)
    except ValueError as e:
        raise InputError(f"--cluster-timeout: {e}", hint="e.g. --cluster-timeout 2m") from None
    if timeout <= 0:
        raise InputError("--cluster-timeout must be more than 0", hint="e.g. --cluster-timeout 2m")
    ids = [names.cluster_id(c, "--clusters") for c in split_list(fleet.clusters)] if fleet.clusters else None
    if fleet.clusters is not None and not ids:
        raise InputError("--clusters names no cluster", hint="e.g. --clusters cls-1a2b3c4d,cls-5e6f7a8b")
    asked = split_list(fleet.regions)
    if fleet.regions is not None and not asked:
        raise InputError("--regions names no region", hint="e.g. --regions ap-guangzhou,ap-shanghai (or all)")
    if "all" in asked:
        regions = all_regions(app.cloud_for(app.settings.require_region()).tke)
    else:
        regions = [names.region(r, "--regions") for r in asked] or [app.settings.require_region()]

    def describe_error(exc: BaseException) -> tuple[str, str | None, ExitCode]:
        mapped = translate(exc) or SgpctlError(f"{type(exc).__name__}: {exc}")
        return clean(mapped.message), mapped.hint, mapped.exit_code

    report = discover(lambda region: app.cloud_for(region).tke, regions, ids, describe_error)
    contexts, current = app.kube_contexts()

    def run_one(target) -> ClusterOutcome:
        access = None
        try:
            access = choose_access(app.cloud_for(target.region).tke, target.cluster_id, contexts, current)
            child = app.for_cluster(target.cluster_id, target.region, context=access.context,
                                    kubeconfig=access.kubeconfig, timeout=timeout)
            answer = per_cluster(child)
        except Exception as exc:  # noqa: BLE001 - this cluster's failure, reported in its row
            message, hint, code = describe_error(exc)
            # The command line was valid: what one cluster refuses ("does not serve ...") is its failure.
            code = ExitCode.FAILED if code == ExitCode.USAGE else code
            return ClusterOutcome(target, code, error=message, hint=hint,
                                  access=access.describe() if access is not None else None)
        notes = [clean(line) for line in child.env.err().splitlines() if line.strip()]
        return ClusterOutcome(target, answer.exit_code, answer.result, answer.summary, answer.details + notes,
                              access=access.describe())

    run_fleet(report, run_one, parallel=fleet.parallel, timeout=timeout, clock=app.env.clock)
    app.out.emit(report.to_dict(), output, lambda term: render_fleet(term, report.to_view()))
    return report.exit_code
