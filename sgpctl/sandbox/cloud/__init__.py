"""The Tencent Cloud API half of the sandbox: an emulated region for CAM, TKE, VPC and CVM.

Modules:

* ``state``    -- :class:`CloudState`, the resources (builders for scenarios, methods for the
                  simulated controllers, ``to_dict``/``from_dict`` persistence).
* ``server``   -- the HTTP endpoint (:func:`start_cloud_server`) and its control endpoints.
* ``tc3``      -- TC3-HMAC-SHA256 verification and the :class:`Credentials` registry.
* ``models``   -- request checking and response shaping against the installed SDK's models.
* ``cam``, ``tke``, ``vpc``, ``cvm`` -- the action handlers (``ACTIONS`` dicts).
* ``errors``   -- :class:`ApiError` (a Tencent error code and message).

Typical use::

    from sgpctl.sandbox.cloud import CloudState, start_cloud_server
    state = CloudState()
    state.add_credentials("AKIDsandbox", "sandbox-secret")
    server, port = start_cloud_server(state)
    ...
    server.shutdown()
"""

from .errors import ApiError
from .server import CloudServer, make_cloud_server, start_cloud_server
from .state import CloudState

__all__ = ["ApiError", "CloudServer", "CloudState", "make_cloud_server", "start_cloud_server"]
