"""The one error type of the emulated cloud: a Tencent Cloud API error code and message.

Raised by request checking, action handlers and the state methods controllers call; the HTTP
handler turns it into ``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}``. A
controller elsewhere in the sandbox catches it to report a cause (e.g. a Warning event naming
``InvalidSecurityGroupID.NotFound``).
"""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def missing(name: str) -> ApiError:
    return ApiError("MissingParameter", f"The request is missing a required parameter `{name}`.")


def invalid_value(name: str, why: str) -> ApiError:
    return ApiError("InvalidParameterValue", f"The value of parameter `{name}` is invalid: {why}")
