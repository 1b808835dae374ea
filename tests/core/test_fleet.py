"""``core.fleet``: which kube context reaches a cluster, and the exit code of many."""

from __future__ import annotations

import pytest

from sgpctl.core.fleet import address, matching_context, split_list, worst_exit_code
from sgpctl.errors import ExitCode


@pytest.mark.parametrize("text,expected", [
    ("https://cls-abc.ccs.tencent-cloud.com", ("cls-abc.ccs.tencent-cloud.com", 443)),
    ("10.0.0.5", ("10.0.0.5", 443)),
    ("10.0.0.5:6443", ("10.0.0.5", 6443)),
    ("HTTPS://Example.COM:443/", ("example.com", 443)),
    ("http://127.0.0.1", ("127.0.0.1", 80)),
    ("", None), (None, None), ("https://", None), ("https://h:notaport", None),
])
def test_address(text, expected):
    assert address(text) == expected


def test_the_context_whose_server_is_an_endpoint_of_the_cluster():
    contexts = [("laptop", "https://127.0.0.1:6443"), ("a", "https://1.2.3.4"), ("b", "https://1.2.3.4:443"),
                ("c", "https://cls-x.ccs.tencent-cloud.com")]
    assert matching_context(["1.2.3.4"], contexts) == "a"                 # 443 either way; first in order
    assert matching_context(["1.2.3.4:443"], contexts, preferred="b") == "b"  # the current context wins a tie
    assert matching_context(["10.0.0.9", "CLS-X.ccs.tencent-cloud.com"], contexts) == "c"
    assert matching_context(["1.2.3.4:6443"], contexts) is None           # another port is another server
    assert matching_context([], contexts) is None


def test_worst_exit_code():
    assert worst_exit_code([]) == ExitCode.OK
    assert worst_exit_code([0, 3, 0]) == ExitCode.UNDETERMINED
    assert worst_exit_code([3, 1, 0]) == ExitCode.FAILED
    assert worst_exit_code([3, 2]) == ExitCode.USAGE
    assert worst_exit_code([0, 130]) == ExitCode.FAILED   # anything unknown counts as a failure


def test_split_list():
    assert split_list(" a, b,,a ,") == ["a", "b"] and split_list(None) == [] and split_list("") == []
