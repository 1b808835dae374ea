"""The sandbox's Kubernetes API: an in-memory object store and a kubectl-compatible HTTP server.

Quick start::

    from sgpctl.sandbox.kube import KubeStore, start_kube_server, write_kubeconfig
    from sgpctl.sandbox.kube.crds import securitygrouppolicy_crd, vpceni_crd

    store = KubeStore()
    store.register_builtin()                 # built-in types + default/kube-system/... namespaces
    store.create("customresourcedefinitions", vpceni_crd())   # serves vpcenis from now on
    server = start_kube_server(store, token="s3cret")          # 127.0.0.1, free port
    write_kubeconfig(path, server.url, "s3cret", "sandbox", "sandbox")
    ...
    server.shutdown()

Store API (``KubeStore``, thread-safe; every method returns copies, never the stored dicts)
------------------------------------------------------------------------------------------
Resources are named by anything ``resolve`` accepts: a ``ResourceType``, a plural (``"pods"``), a
qualified plural (``"deployments.apps"``, ``"securitygrouppolicies.vpcresources.tke.cloud.tencent.com"``),
a kind (``"Pod"``), a short name (``"sgp"``), or ``(group, plural)`` / ``(group, version, plural)``.
Errors are ``ApiError`` (``.code``, ``.reason`` such as NotFound / AlreadyExists / Conflict /
Invalid / BadRequest, ``.message``, ``.status()`` the metav1.Status dict) with the real server's messages.

- ``register_builtin(system_namespaces=True)``; ``register(rt)``; ``types()``
- ``resource(group, version, plural) -> ResourceType | None``; ``resource_for_kind(group, kind)``
- ``get(resource, namespace, name) -> dict | None`` (namespace ignored for cluster-scoped types)
- ``list(resource, namespace=None, label_selector=None, field_selector=None) -> list[dict]``, ordered by
  (namespace, name); selectors in kubectl syntax (``"app=a,tier!=db"``) or dicts of equalities
- ``list_entries(..., limit=None, continue_token=None) -> (entries, rv, continue, remaining)``: one page
  (what the HTTP layer uses; ``entry.obj`` is read-only, ``entry.copy()`` gives a dict)
- ``create(resource, obj, *, dry_run=False, keep_status=True) -> dict``: 409 AlreadyExists, 404 when the
  namespace is missing, 422 for bad names/labels; ``generateName`` honoured; server defaults applied
  (Pod ``status.phase: Pending``, ``spec.serviceAccountName``, Service ``clusterIP``, ...). Creating a
  Namespace also creates its ``default`` ServiceAccount (``KubeStore(default_service_accounts=False)``
  turns that off). Creating a CustomResourceDefinition serves its resource at once.
- ``update(resource, obj, subresource=None, *, dry_run=False) -> dict``: 409 Conflict on a stale
  ``metadata.resourceVersion`` (none given: unconditional); ``subresource="status"`` changes only the
  status, a main-resource update keeps the status of types with a status subresource. No-op updates
  write nothing. ``metadata.generation`` goes up when anything but metadata/status changes.
- ``patch(resource, namespace, name, patch, patch_type="merge", subresource=None, *, dry_run=False,
  field_manager=None, request=None) -> dict``: "merge", "json", "strategic" (built-ins only), "apply"
  (server-side apply with managedFields and conflicts)
- ``bind(namespace, pod, node_name) -> dict``: the pods/binding subresource (409 if already bound)
- ``get_scale(resource, ns, name)``, ``update_scale(resource, ns, name, scale=None, *, patch=None, patch_type)``
- ``delete(resource, namespace, name, propagation="Background", *, preconditions=None, dry_run=False) -> dict``:
  ownerReference cascade (Background: owner then dependents; Foreground: dependents first; Orphan:
  owner references removed); objects with finalizers get a deletionTimestamp and go when an update
  removes the last finalizer; a namespace deletes everything in it; a CRD deletes its objects.
- ``delete_collection(resource, namespace=None, label_selector=None, field_selector=None, propagation)``
- ``subscribe(callback) -> unsubscribe``: ``callback(event_type, resource_type, obj)`` with event_type
  ADDED / MODIFIED / DELETED, called synchronously after each commit, under the store lock, in
  resource-version order (writes made inside a callback are delivered after the current round).
  Keep it cheap: queue work for a controller thread.
- ``add_admission(hook) -> remove``: ``hook(operation, resource_type, obj, old)`` ("CREATE" / "UPDATE",
  main resource only) runs after defaulting and before storage, like a mutating webhook: return a
  changed obj (or None), or raise ApiError to refuse. The create response and the first watch
  event already carry the mutation.
- ``watcher(resource, namespace=None, resource_version=None, label_selector=None, field_selector=None)``
  -> ``Watcher`` with ``next(timeout) -> [(type, entry)]``: what the HTTP watch streams.
- ``add_event(namespace, involved_object, reason, message, type="Normal", component="sandbox") -> dict``:
  a core/v1 Event; repeats bump ``count``.
- ``resource_version`` (int, global counter); ``to_dict()`` / ``KubeStore.from_dict(data)`` for persistence.

Server: ``start_kube_server(store, token, faults=None, log=None, host="127.0.0.1", port=0, *, tls=True,
tls_dir=None, client_ca=None) -> KubeServer`` (``.port``, ``.url``, ``.ca_pem``, ``.shutdown()``); with
``client_ca`` (a PEM file) x509 client certificates that CA issued authenticate too (``tls.cluster_ca``,
``tls.client_certificate``: TKE's per-cluster CA and per-account certificates); ``write_kubeconfig(path,
url, token, cluster_name, context_name, namespace="default", *, ca_pem=None)`` (``kubeconfig`` builds
several contexts). ``KubeStore(service_cidr=...)`` is the range Services get their clusterIPs from. The server is HTTPS with a
self-signed certificate made by the ``openssl`` command (``tls.ensure_certificate``, kept in ``tls_dir``).
Without openssl it serves plain http, where kubectl sends no bearer token and so cannot authenticate
(401): install openssl. CRD manifests: ``crds.securitygrouppolicy_crd()``, ``crds.vpceni_crd()``.

Requests through the HTTP server are decoded against the kind's schema (``schema``), defaulted
and validated (``validation``), and their field managers recorded (``fieldmanager``): in-process
callers of the store skip that (``create``/``update``/``patch`` take ``request=Request(...)`` to opt
in). ``KubeStore(namespace_cleanup_delay=s)`` keeps deleted namespaces Terminating for ``s`` seconds;
``KubeStore(sgp_crd_schema="strict")`` is the ``sgp-crd-schema`` variant. What kubectl can and cannot
do against the server is the table in the README's sandbox section.
"""

from .errors import ApiError
from .resources import ResourceType
from .server import KubeServer, start_kube_server, write_kubeconfig
from .store import KubeStore, Watcher

__all__ = ["ApiError", "KubeServer", "KubeStore", "ResourceType", "Watcher", "start_kube_server",
           "write_kubeconfig"]
