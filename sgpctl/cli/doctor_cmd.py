"""`sgpctl doctor`: one preflight over the whole setup (owned by the issue-6 work)."""

from __future__ import annotations

HELP = "Check the whole setup, linkerd-style: settings, cloud access, network mode, CAM, trunking, add-on, nodes, policies, Pods, routing."


def doctor() -> None:
    raise NotImplementedError
