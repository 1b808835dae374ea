from __future__ import annotations

from typing import Annotated

import typer

from sgpctl.cli.options import AllNamespaces, Namespace, namespace_scope
from sgpctl.errors import ExitCode, InputError

HELP = """Record the cluster and cloud answers, secrets removed, to replay offline.

A read-only record of what sgpctl reasons about the cluster with: the cloud's answers (DescribeClusters,
the add-ons and their values, DescribeIPAMD, Pod limits, CAM, the security groups and their rules, the
ENIs of sub-ENI Pods, subnets, instances) and the cluster's objects (nodes, Pods, ServiceAccounts, their
owners, SecurityGroupPolicies, VpcENIs, Services, NetworkPolicies, kube-proxy and ip-masq-agent
configuration, the CRDs). Nothing is changed.

Never in the file: credentials, tokens, Secret objects, managedFields, last-applied annotations, nor the
value of anything that looks secret (env values and flags named like passwords, tokens or keys). With
--redact-names the names of your namespaces and of the objects in them are hashed (the same name, the
same hash, so selectors and references still match).

Replay it: `sgpctl sandbox up --from-capture FILE` serves it as an emulated region (kubectl and every
sgpctl command work against it), and `sgpctl policy explain` and `sgpctl capacity` read it with
--snapshot FILE. Send it when sgpctl meets something it does not expect.

The whole cluster unless -n narrows it. The file is JSON, written with mode 0600 (- for stdout).
Exit 0, or 3 when something could not be read (each named; the file is written all the same).

Examples:

  sgpctl capture -o capture.json

  sgpctl capture -o capture.json --redact-names -n my-namespace

  sgpctl sandbox up --from-capture capture.json --state-dir /tmp/replay
"""

_FORMAT_NAMES = ("json", "yaml", "table")


def capture(
    ctx: typer.Context,
    output: Annotated[str, typer.Option("-o", "--output", metavar="FILE",
                                        help="File to write the capture to (- for stdout).")] = "-",
    namespace: Namespace = None,
    all_namespaces: AllNamespaces = False,
    redact_names: Annotated[bool, typer.Option("--redact-names", help="Hash the names of your namespaces and "
                                               "of the objects in them.")] = False,
) -> ExitCode:
    import json
    import os
    import secrets
    import time

    from sgpctl import __version__
    from sgpctl.cli.context import get_app
    from sgpctl.render.capture import capture_summary
    from sgpctl.workflows.capture import capture as run_capture

    if output in _FORMAT_NAMES and not os.path.exists(output):
        raise InputError(f"-o names the file to write the capture to, not a format (a capture is always JSON): "
                         f"{output!r}", hint="e.g. sgpctl capture -o capture.json (or -o - for stdout)")
    app = get_app(ctx)
    scope = namespace_scope(app, namespace, all_namespaces, all_by_default=True)
    settings = app.settings
    result = run_capture(app.view(scope), app.cloud(), settings.require_cluster_id(), settings.require_region(),
                         version=__version__, now=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         redact_names=redact_names, salt=secrets.token_hex(16),
                         sgp_addon_setting=settings.sgp_addon_name())
    text = json.dumps(result.document, ensure_ascii=False, separators=(",", ":")) + "\n"
    if output == "-":
        app.out.write(text)
    else:
        from pathlib import Path

        from sgpctl.sandbox.runner import write_private

        try:
            write_private(Path(output).absolute(), text)
        except OSError as e:
            raise InputError(f"cannot write {output}: {e.strerror or e}", hint="choose another -o FILE") from None
    capture_summary(app.out, result.summary(), None if output == "-" else output)
    # A partial capture is still worth sending; the exit status says it is partial.
    return ExitCode.UNDETERMINED if result.problems else ExitCode.OK
