"""Thin adapters over tencentcloud-sdk-python for CAM, TKE, VPC and CVM.

Start from ``sgpctl.cloud.session.CloudSession`` (or ``sgpctl.cloud.factory.session_from_settings``):
``session.cam``, ``.tke``, ``.vpc``, ``.cvm`` are the adapters (``sgpctl.cloud.cam`` ...), which take and
return the plain dataclasses of ``sgpctl.cloud.types``. Every API call goes through ``session.call``:
retries (``sgpctl.cloud.retry``), error mapping to ``sgpctl.errors.CloudError``
(``sgpctl.cloud.errors``), paging and batching (``sgpctl.cloud.paging``).

Nothing in this package imports the SDK at module level.
"""
