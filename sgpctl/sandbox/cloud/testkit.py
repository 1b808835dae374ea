"""Helpers for tests that drive the cloud endpoint with the official SDK clients.

``serve(state)`` runs an endpoint for the duration of a ``with`` block and hands back a
:class:`RunningCloud` whose ``client("vpc")`` is a real ``VpcClient`` pointed at it;
``cloud.error_code("vpc", action, ...)`` is the code of an expected error; ``demo_state()`` is a
small region (one VPC-CNI cluster, three nodes of different families, two
security groups, the two TKE CAM roles, eniipamd installed) for tests that need a bit of
everything. Imports the SDK lazily: nothing here runs unless a test calls it.
"""

from __future__ import annotations

import importlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from ..faults import Faults
from ..requestlog import RequestLog
from .server import CloudServer, start_cloud_server
from .state import CloudState

SECRET_ID = "AKIDsandboxTESTsecretid000000000"
SECRET_KEY = "sandbox-test-secret-key-never-logged"
REGION = "ap-guangzhou"
CLUSTER_ID = "cls-demo0001"
VPC_ID = "vpc-demo0001"

_CLIENTS = {
    "cam": ("tencentcloud.cam.v20190116.cam_client", "CamClient"),
    "tke": ("tencentcloud.tke.v20180525.tke_client", "TkeClient"),
    "vpc": ("tencentcloud.vpc.v20170312.vpc_client", "VpcClient"),
    "cvm": ("tencentcloud.cvm.v20170312.cvm_client", "CvmClient"),
}


def sdk_client(service: str, endpoint: str, *, region: str = REGION, secret_id: str = SECRET_ID,
               secret_key: str = SECRET_KEY, token: str | None = None, method: str = "POST") -> Any:
    """An official SDK client for ``service`` talking plain HTTP to ``endpoint`` (host:port)."""
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile

    module, cls = _CLIENTS[service]
    client_cls = getattr(importlib.import_module(module), cls)
    http = HttpProfile(endpoint=endpoint, protocol="http", reqMethod=method)
    return client_cls(Credential(secret_id, secret_key, token), "" if service == "cam" else region,
                      ClientProfile(httpProfile=http))


def models(service: str):
    """The SDK models module of ``service``."""
    from . import models as m

    return importlib.import_module(m.SERVICES[service][1])


def request(service: str, action: str, **params: Any):
    """An SDK ``<action>Request`` filled from ``params`` (nested dicts become models)."""
    req = getattr(models(service), f"{action}Request")()
    req._deserialize(params)
    return req


@dataclass
class RunningCloud:
    state: CloudState
    server: CloudServer
    port: int

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.server.faults

    @property
    def log(self) -> RequestLog:
        return self.server.request_log

    def client(self, service: str, **kwargs: Any) -> Any:
        return sdk_client(service, self.endpoint, **kwargs)

    def call(self, service: str, action: str, **params: Any):
        """Call ``action`` through the SDK's typed method; returns the response model."""
        return getattr(self.client(service), action)(request(service, action, **params))

    def error_code(self, service: str, action: str, **params: Any) -> str:
        """The error code ``action`` answers with (AssertionError if it succeeds)."""
        return error_code(self.call, service, action, **params)


def error_code(fn: Any, *args: Any, **kwargs: Any) -> str:
    """The ``TencentCloudSDKException`` code that ``fn(*args, **kwargs)`` raises (AssertionError
    if it returns)."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    try:
        fn(*args, **kwargs)
    except TencentCloudSDKException as exc:
        return exc.code
    raise AssertionError(f"{getattr(fn, '__name__', fn)}{args} succeeded; an error was expected")


@contextmanager
def serve(state: CloudState, **kwargs: Any) -> Iterator[RunningCloud]:
    server, port = start_cloud_server(state, **kwargs)
    try:
        yield RunningCloud(state, server, port)
    finally:
        server.shutdown()


def demo_state(**kwargs: Any) -> CloudState:
    """A small region that meets the SecurityGroupPolicy preconditions (trunking still off)."""
    s = CloudState(REGION, ("ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6"), **kwargs)
    s.add_credentials(SECRET_ID, SECRET_KEY)
    s.add_role("IPAMDofTKE_QCSRole", "eniipamd service role", role_type="system",
               policies=["QcloudAccessForIPAMDofTKERole"])
    s.add_role("TKE_QCSRole", "TKE service role", role_type="system", policies=["QcloudAccessForTKERole"])
    s.add_vpc(VPC_ID, "demo", "10.0.0.0/16")
    s.add_subnet("subnet-aaaa1111", VPC_ID, "10.0.1.0/24", "ap-guangzhou-3")
    s.add_subnet("subnet-bbbb2222", VPC_ID, "10.0.2.0/24", "ap-guangzhou-4")
    s.add_security_group("tke-node", "node group", group_id="sg-node0001")
    s.add_security_group("app", "application pods", group_id="sg-app00001", tags={"team": "web"})
    s.add_cluster(CLUSTER_ID, "demo", "1.30.0", VPC_ID, subnet_ids=["subnet-aaaa1111", "subnet-bbbb2222"])
    s.add_addon(CLUSTER_ID, "eniipamd", "3.6.0")
    s.add_instance("ins-s5node01", "S5.LARGE8", 4, 8, "ap-guangzhou-3", "10.0.1.10", VPC_ID, "subnet-aaaa1111",
                   ["sg-node0001"], cluster_id=CLUSTER_ID, node_pool_id="np-default")
    s.add_instance("ins-sa5node1", "SA5.2XLARGE16", 8, 16, "ap-guangzhou-4", "10.0.2.10", VPC_ID, "subnet-bbbb2222",
                   ["sg-node0001"], cluster_id=CLUSTER_ID, node_pool_id="np-default")
    s.add_instance("ins-s8big001", "S8.16XLARGE256", 64, 256, "ap-guangzhou-3", "10.0.1.11", VPC_ID,
                   "subnet-aaaa1111", ["sg-node0001"], cluster_id=CLUSTER_ID, node_pool_id="np-big")
    return s
