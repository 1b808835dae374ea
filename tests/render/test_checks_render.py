"""The linkerd-style check table and the JSON document - the output path every check command takes
(``Terminal.checks`` -> ``render.check_output.emit_checks``) - against hand-written golden files
(``golden/``: written first, by hand, and never regenerated from the output)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from sgpctl.core.checks import (
    CheckOutcome,
    CheckResult,
    CheckSpec,
    Status,
    failed,
    group_results,
    noted,
    passed,
    run_checks,
    warned,
)
from sgpctl.environment import Environment
from sgpctl.errors import CloudError, UndeterminedError
from sgpctl.render.check_output import MAX_EVIDENCE, CheckTableRenderer
from sgpctl.render.terminal import Terminal

GOLDEN = Path(__file__).parent / "golden"
ASCII = {"pass": "[ok]", "fail": "[FAIL]", "warn": "[warn]", "skip": "[skip]", "info": "[info]"}
TTY = {"pass": "√", "fail": "×", "warn": "‼", "skip": "-", "info": "i"}


def terminal(stream=None, *, tty: bool = False) -> Terminal:
    env = Environment.captured({}, stdout_isatty=tty)
    if stream is not None:
        env.stdout = stream
    return Terminal(env)


def render_checks(results, stream, glyphs=ASCII, *, fail_on_warning=False):
    """(results drawn, exit code): the table as `doctor` draws it, on ``stream``."""
    drawn = list(results)
    code = terminal(stream, tty=glyphs is TTY).checks(iter(drawn), "table", fail_on_warning=fail_on_warning)
    return drawn, code


def render_json(results, stream, *, fail_on_warning=False):
    return terminal(stream).checks(results, "json", fail_on_warning=fail_on_warning)


def const(outcome):
    return lambda ctx: outcome


def boom(exc):
    def run(ctx):
        raise exc
    return run


def categories():
    return [
        ("settings", [
            CheckSpec("settings-credentials", "credentials resolve", const(passed("from TENCENTCLOUD_SECRET_ID"))),
            CheckSpec("settings-region", "region is set", const(warned(
                "no region given: using ap-guangzhou", "pass --region or set TENCENTCLOUD_REGION",
                ["source: default", "labels [bold]app=web[/bold]"]))),
        ]),
        ("cam", [
            CheckSpec("cam-policy-exists", "CAM policy SubENIForIPAMD exists",
                      const(failed("policy SubENIForIPAMD not found", "run `sgpctl setup cam`")), fatal=True),
            CheckSpec("cam-policy-attached", "policy SubENIForIPAMD is attached to both roles", const(passed()),
                      requires=("cam-policy-exists",)),
            CheckSpec("vpc-client-token-allowlist", "VPC client-token allowlist (manual)", const(noted(
                "no API can read the allowlist: confirm it with a ticket to VPC",
                "https://www.tencentcloud.com/document/product/457/64990"))),
        ]),
        ("routing", [
            CheckSpec("strict-snat-agent", "ip-masq-agent does not SNAT strict-mode Pods", const(CheckOutcome(
                Status.PASS, "ip-masq-agent is not installed",
                "without SNAT, strict-mode Pods reach the internet only through a NAT gateway",
                ["no DaemonSet kube-system/ip-masq-agent"]))),
            CheckSpec("strict-early-demux", "eniipamd disables TCP and UDP early demux",
                      boom(CloudError("AuthFailure", "the signature expired", action="DescribeAddonValues",
                                      hint="check the clock and the credentials"))),
            CheckSpec("strict-snat", "strict-mode Pod egress is not SNATed", const(failed(
                "egress from 10.0.1.0/24 is SNATed to the node IP",
                "add 10.0.1.0/24 to NonMasqueradeSrcCIDRs; the data key 'config' becomes:\n"
                "NonMasqueradeSrcCIDRs:\n- 10.0.1.0/24",
                ["10.0.1.0/24: SNATed", "ConfigMap says \x1b[31mred"]))),
        ]),
    ]


def test_table_matches_the_golden_file():
    out = io.StringIO()
    results, code = render_checks(run_checks(categories()), out, ASCII)
    assert out.getvalue() == (GOLDEN / "checks_table.txt").read_text(encoding="utf-8")
    assert code == 1 and len(results) == 8


def test_json_matches_the_golden_file():
    out = io.StringIO()
    code = render_json(group_results(run_checks(categories())), out)
    golden = (GOLDEN / "checks.json").read_text(encoding="utf-8")
    assert json.loads(out.getvalue()) == json.loads(golden)
    # the layout too: indented, one line per check, non-ASCII kept, control characters escaped
    assert out.getvalue() == golden
    assert code == 1


def test_json_from_bare_results_is_the_same_document():
    a, b = io.StringIO(), io.StringIO()
    render_json(list(run_checks(categories())), a)
    render_json(group_results(run_checks(categories())), b)
    assert a.getvalue() == b.getvalue()


class RecordingStream(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushed_at: list[str] = []

    def flush(self):
        self.flushed_at.append(self.getvalue())


def test_each_result_is_written_and_flushed_before_the_next_check_runs():
    stream = RecordingStream()

    def second(ctx):
        # by the time the second check runs, the first line is on the stream
        assert stream.getvalue() == "one\n---\n[ok] first\n"
        return passed()

    terminal(stream).checks(run_checks([("one", [CheckSpec("a", "first", const(passed())), CheckSpec("b", "second", second)])]),
                            "table")
    assert stream.flushed_at[0] == "one\n---\n[ok] first\n"


def test_tty_glyphs_and_a_passing_status_line():
    out = io.StringIO()
    _, code = render_checks(run_checks([("nodes", [
        CheckSpec("a", "nodes are supported", const(passed())),
        CheckSpec("b", "quota has room", const(warned("node n1 is 90% full"))),
    ])]), out, TTY)
    assert out.getvalue() == (
        "nodes\n"
        "-----\n"
        "√ nodes are supported\n"
        "‼ quota has room\n"
        "    node n1 is 90% full\n"
        "\n"
        "Status check results are √ (1 warning, 1 passed)\n"
    )
    assert code == 0


def test_fail_on_warning_turns_the_status_line_red():
    out = io.StringIO()
    _, code = render_checks(run_checks([("x", [CheckSpec("a", "d", const(warned("w")))])]), out, ASCII,
                            fail_on_warning=True)
    assert out.getvalue().endswith("Status check results are [FAIL] (1 warning)\n") and code == 1


def test_undetermined_only_exits_3_and_says_so():
    out = io.StringIO()
    _, code = render_checks(run_checks([("x", [CheckSpec("a", "d", boom(UndeterminedError("timeout")))])]),
                            out, ASCII)
    assert out.getvalue().endswith("Status check results are [FAIL] (1 could not be determined)\n")
    assert code == 3


def test_long_evidence_is_capped_in_the_table_but_not_in_json():
    items = [f"Pod shop/web-{i}" for i in range(MAX_EVIDENCE + 3)]
    result = CheckResult("a", "d", Status.FAIL, "m", None, items, "c")
    out = io.StringIO()
    renderer = CheckTableRenderer(terminal(out))
    renderer.add(result)
    renderer.flush()
    lines = out.getvalue().splitlines()
    assert f"    - Pod shop/web-{MAX_EVIDENCE - 1}" in lines
    assert f"    - Pod shop/web-{MAX_EVIDENCE}" not in lines
    assert lines[-1] == "    - ... and 3 more (-o json shows all)"
    js = io.StringIO()
    render_json([result], js)
    assert json.loads(js.getvalue())["categories"][0]["checks"][0]["evidence"] == items


def test_dict_evidence_renders_as_key_value_lines():
    out = io.StringIO()
    render_checks([CheckResult("a", "d", Status.WARN, "m", None, {"node": "n1", "quota": 0}, "c")], out)
    assert "    - node: n1\n    - quota: 0\n" in out.getvalue()


def test_empty_run_prints_only_the_status_line():
    out = io.StringIO()
    _, code = render_checks([], out, ASCII)
    assert out.getvalue() == "Status check results are [ok]\n" and code == 0


def test_glyphs_follow_the_environment_not_the_process():
    # the environment says whether stdout is a terminal and whether colour is wanted
    tty = Environment.captured({}, stdout_isatty=True)
    Terminal(tty).checks([CheckResult("a", "d", Status.PASS, category="c")], "table")
    assert "√ d" in tty.out()
    no_color = Environment.captured({"NO_COLOR": "1"}, stdout_isatty=True)
    Terminal(no_color).checks([CheckResult("a", "d", Status.PASS, category="c")], "table")
    assert "[ok] d" in no_color.out()
    piped = Environment.captured({})
    Terminal(piped).checks([CheckResult("a", "d", Status.PASS, category="c")], "table")
    assert "[ok] d" in piped.out()


@pytest.mark.parametrize("status,shown", [(Status.PASS, False), (Status.SKIP, True), (Status.INFO, True)])
def test_which_statuses_show_their_message(status, shown):
    out = io.StringIO()
    render_checks([CheckResult("a", "d", status, "the message", None, [], "c")], out)
    assert ("the message" in out.getvalue()) is shown
