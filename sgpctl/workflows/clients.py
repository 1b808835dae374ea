"""What workflows need from the adapters, as narrow ``typing.Protocol``s (cilium-cli's
``k8sImplementation``): ``sgpctl.kube.client.Kube`` and ``sgpctl.cloud.session.CloudSession`` (with its
service adapters) implement them, and so do the test fakes (``tests/fakes.py``); a test keeps the three
in step, signature by signature.

A workflow annotates its parameters with the narrowest of these it needs: reads of the cluster go
through a ``workflows.view.ClusterView`` (built on a ``KubeReader``); writes take a ``KubeWriter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from sgpctl.kube.resources import Resource


@runtime_checkable
class KubeReader(Protocol):
    server: str | None
    calls: int

    def resource(self, group: str, kind: str) -> Resource: ...

    def serves(self, group: str, kind: str) -> bool: ...

    def list(self, resource: Resource, namespace: str | None = None, *, label_selector: str | None = None,
             field_selector: str | None = None) -> list[dict]: ...

    def get(self, resource: Resource, name: str, namespace: str | None = None) -> dict | None: ...

    def version(self) -> dict: ...


@runtime_checkable
class KubeWriter(KubeReader, Protocol):
    def create(self, resource: Resource, obj: dict, namespace: str | None = None, *, dry_run: bool = False) -> dict: ...

    def replace(self, resource: Resource, obj: dict, *, dry_run: bool = False) -> dict: ...

    def patch(self, resource: Resource, name: str, patch: Any, namespace: str | None = None, *,
              patch_type: str = "merge", dry_run: bool = False) -> dict: ...

    def delete(self, resource: Resource, name: str, namespace: str | None = None, *,
               propagation: str = "Background", dry_run: bool = False) -> bool: ...


@runtime_checkable
class LeaseApi(Protocol):
    """A ``coordination.k8s.io/v1`` Lease of a namespace (``workflows.lease``): GET (None when absent
    or not served), create, and replace with the resourceVersion read (409 Conflict when it moved)."""

    def get_lease(self, name: str, namespace: str) -> dict | None: ...

    def create_lease(self, lease: dict, namespace: str) -> dict: ...

    def replace_lease(self, lease: dict, namespace: str) -> dict: ...


@runtime_checkable
class VpcApi(Protocol):
    def describe_network_interfaces(self, ids: Iterable[str] | None = None, filters: Any = None, *,
                                    concurrency: int = 1) -> list: ...

    def describe_security_groups(self, ids: Iterable[str] | None = None, *, name: str | None = None,
                                 filters: Any = None) -> list: ...

    def find_security_groups_by_name(self, name: str) -> list: ...

    def find_missing_security_groups(self, ids: Iterable[str]) -> list[str]: ...

    def describe_security_group_limit(self) -> int: ...

    def describe_subnets(self, ids: Iterable[str] | None = None, filters: Any = None) -> list: ...

    def describe_security_group_policies(self, group_ids: Iterable[str], *, concurrency: int = 8) -> list: ...

    def describe_rule_book(self, group_ids: Iterable[str], known_enis: Iterable[Any] = (), *,
                           concurrency: int = 8, eni_addresses: Iterable[str] = ()) -> Any: ...

    def describe_network_interface_limit(self, instance_id: str) -> Any: ...

    def describe_instance_network_interfaces(self, instance_ids: Iterable[str], *, concurrency: int = 4) -> list: ...

    def delete_network_interface(self, eni_id: str) -> bool: ...

    def delete_security_group(self, group_id: str) -> bool: ...

    def create_security_group(self, name: str, description: str = "", tags: Mapping[str, str] | None = None,
                              project_id: str | int | None = None) -> Any: ...

    def create_security_group_policies(self, group_id: str, ingress: Iterable[Any] = (),
                                       egress: Iterable[Any] = ()) -> None: ...


@runtime_checkable
class TkeApi(Protocol):
    def describe_cluster(self, cluster_id: str) -> Any: ...

    def describe_clusters(self, cluster_ids: list[str] | None = None) -> list: ...

    def describe_cluster_instances(self, cluster_id: str, instance_ids: list[str] | None = None) -> list: ...

    def describe_cluster_endpoints(self, cluster_id: str) -> Any: ...

    def describe_cluster_kubeconfig(self, cluster_id: str, extranet: bool = False) -> str: ...

    def describe_regions(self) -> list: ...

    def describe_ipamd(self, cluster_id: str) -> Any: ...

    def describe_addons(self, cluster_id: str, name: str | None = None) -> list: ...

    def get_addon(self, cluster_id: str, name: str) -> Any: ...

    def describe_addon_values(self, cluster_id: str, name: str) -> Any: ...

    def install_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                      dry_run: bool = False) -> None: ...

    def update_addon(self, cluster_id: str, name: str, version: str | None = None, values: dict | None = None,
                     strategy: str = "merge", dry_run: bool = False) -> None: ...

    def get_app_chart_list(self, kind: str | None = None, cluster_type: str = "tke", arch: str | None = None) -> list: ...

    def describe_vpc_cni_pod_limits(self, zone: str | None = None, family: str | None = None,
                                    instance_type: str | None = None) -> list: ...


@runtime_checkable
class CamApi(Protocol):
    def find_policy_by_name(self, name: str) -> Any: ...

    def get_policy(self, policy_id: int) -> Any: ...

    def create_policy(self, name: str, document: dict, description: str = "") -> int: ...

    def update_policy(self, policy_id: int, document: dict, description: str | None = None) -> None: ...

    def get_role(self, name: str) -> Any: ...

    def attach_role_policy(self, policy_id: int, role_name: str) -> None: ...

    def list_attached_role_policies(self, role_name: str) -> list: ...


@runtime_checkable
class Cloud(Protocol):
    """A cloud session: the service adapters, and ``call`` for the actions no adapter wraps."""

    @property
    def tke(self) -> TkeApi: ...

    @property
    def vpc(self) -> VpcApi: ...

    @property
    def cam(self) -> CamApi: ...

    def call(self, service: str, action: str, params: dict | None = None, *, idempotent: bool | None = None) -> dict: ...


# -- what `sgpctl capture` reads through: the same adapters, a few more of their reads, and a recording --


@runtime_checkable
class CaptureVpc(VpcApi, Protocol):
    """The VPC reads of a capture: ``VpcApi``'s (the groups' rules through ``describe_rule_book``)."""


@runtime_checkable
class CaptureCam(CamApi, Protocol):
    def list_policies(self, scope: str = "Local", keyword: str | None = None) -> list: ...


@runtime_checkable
class CvmApi(Protocol):
    def describe_instances(self, ids: Iterable[str] | None = None, filters: Any = None) -> list: ...


@runtime_checkable
class CaptureCloud(Cloud, Protocol):
    """A cloud session that can record what it is asked and answered (``CloudSession.recording``)."""

    @property
    def vpc(self) -> CaptureVpc: ...

    @property
    def cam(self) -> CaptureCam: ...

    @property
    def cvm(self) -> CvmApi: ...

    def recording(self) -> AbstractContextManager[list[dict]]: ...
