"""The one exception -> exit mapping (cli/errors.py), as a table (httpie's tests/test_exit_status.py is
the model): every exception sgpctl expects, built as the libraries raise it, with the exit code the
README's conventions give it, printed as one `error:` line and at most one `hint:` line.

Exit codes by the README: 1 refused/failed, 2 bad input, 3 could not determine (unreachable, auth,
permission). Anything not in the table is a bug in sgpctl: "unexpected", exit 1.
"""

from __future__ import annotations

import pytest

from sgpctl.cli import errors as cli_errors
from sgpctl.errors import CloudError, ExitCode, InputError, KubeError, RefusedError, SgpctlError, UndeterminedError


def sdk_error(code: str, message: str = "m", request_id: str = "rid-1"):
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    return TencentCloudSDKException(code, message, request_id)


def api_exception(status: int, reason: str, body: str = ""):
    from kubernetes.client.exceptions import ApiException

    e = ApiException(status=status, reason=reason)
    e.body = body
    return e


def config_exception(message: str):
    from kubernetes.config.config_exception import ConfigException

    return ConfigException(message)


def yaml_error(text: str):
    import yaml

    try:
        yaml.safe_load(text)
    except yaml.YAMLError as e:
        return e
    raise AssertionError("no error")


def urllib3_error():
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    return MaxRetryError(None, "/api", NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused"))


def requests_error():
    import requests

    return requests.ConnectionError("Connection aborted")


def load_error():
    from sgpctl.core.loading import LoadError

    return LoadError("p.yaml", "control character NUL (\\x00) is not allowed in YAML", 3, 5)


def name_error():
    from sgpctl.core.names import namespace

    try:
        namespace("Bad_NS!", "-n/--namespace")
    except ValueError as e:
        return e


def selector_error():
    from sgpctl.core.selectors import parse

    try:
        parse("app in (web")
    except ValueError as e:
        return e


def policy_object_error():
    from sgpctl.core.policy import PolicyObjectError

    return PolicyObjectError("shop/web", "spec.securityGroups", "must be a mapping, got integer")


# (exception factory, exit code, words the error line must contain); None: "unexpected"
TABLE = [
    (lambda: InputError("bad flag", hint="fix it"), 2, "bad flag"),
    (lambda: RefusedError("refused"), 1, "refused"),
    (lambda: UndeterminedError("cannot tell"), 3, "cannot tell"),
    (lambda: SgpctlError("failed"), 1, "failed"),
    (lambda: CloudError("AuthFailure.SignatureFailure", "bad signature", "rid"), 3, "AuthFailure.SignatureFailure"),
    (lambda: KubeError(409, "Conflict", "modified"), 1, "HTTP 409 Conflict"),
    (lambda: sdk_error("AuthFailure.SecretIdNotFound"), 3, "AuthFailure.SecretIdNotFound"),
    (lambda: sdk_error("UnauthorizedOperation"), 3, "UnauthorizedOperation"),
    (lambda: sdk_error("RequestLimitExceeded"), 3, "RequestLimitExceeded"),
    (lambda: sdk_error("InternalError"), 3, "InternalError"),
    (lambda: sdk_error("ResourceNotFound.ClusterNotFound"), 1, "ResourceNotFound.ClusterNotFound"),
    (lambda: sdk_error("InvalidParameter.PolicyNameError"), 1, "InvalidParameter.PolicyNameError"),
    (lambda: api_exception(401, "Unauthorized"), 3, "HTTP 401"),
    (lambda: api_exception(403, "Forbidden"), 3, "HTTP 403"),
    (lambda: api_exception(404, "NotFound"), 1, "HTTP 404"),
    (lambda: api_exception(409, "AlreadyExists", '{"message": "exists\\nsecond line"}'), 1, "HTTP 409"),
    (lambda: api_exception(500, "InternalError"), 3, "HTTP 500"),
    (lambda: config_exception("Invalid kube-config file. Expected key current-context"), 2, "current-context"),
    (lambda: yaml_error("a: b: c"), 2, "invalid YAML"),
    (lambda: yaml_error("\x00"), 2, "invalid YAML"),
    (lambda: b"\xff".decode("utf-8"), 2, "not UTF-8"),
    (urllib3_error, 3, "cannot reach the server"),
    (requests_error, 3, "cannot reach the server"),
    (lambda: ConnectionRefusedError(111, "Connection refused"), 3, "cannot reach the server"),
    (lambda: TimeoutError("timed out"), 3, "cannot reach the server"),
    (load_error, 2, "p.yaml: line 3, column 5: control character NUL"),
    (name_error, 2, "-n/--namespace 'Bad_NS!' is invalid: a lowercase RFC 1123 label"),
    (selector_error, 2, "unable to parse requirement"),
    (policy_object_error, 1, "cannot read SecurityGroupPolicy shop/web: spec.securityGroups: must be a mapping"),
    (lambda: RuntimeError("our bug"), None, "unexpected RuntimeError: our bug"),
    (lambda: KeyError("x"), None, "unexpected KeyError"),
    (lambda: ValueError("an untyped ValueError is ours"), None, "unexpected ValueError"),
    (lambda: RecursionError("maximum recursion depth exceeded"), None, "unexpected RecursionError"),
]


def _raise(factory):
    try:
        exc = factory()
    except BaseException as e:  # factories that fail the way the library does (b"\xff".decode)
        return e
    return exc


@pytest.mark.parametrize("factory, code, words", TABLE, ids=[str(i) for i in range(len(TABLE))])
def test_each_exception_maps_to_its_exit_code_in_one_line(factory, code, words, capsys):
    exc = _raise(factory)
    mapped = cli_errors.translate(exc)
    if code is None:
        assert mapped is None
        rc = cli_errors.report_unexpected(exc, debug=False)
        assert rc == ExitCode.FAILED
    else:
        assert mapped is not None and int(mapped.exit_code) == code
        assert cli_errors.report(mapped, debug=False, original=exc) == code
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: ") and words in lines[0], lines
    assert len(lines) <= 2 and all(line.startswith("hint: ") for line in lines[1:]), lines
    assert all(line.isprintable() for line in lines)


def test_a_broken_pipe_is_a_quiet_exit_0(capsys):
    mapped = cli_errors.translate(BrokenPipeError())
    assert cli_errors.report(mapped) == 0 and capsys.readouterr().err == ""


def test_messages_are_one_line_with_url_credentials_masked(capsys):
    exc = UndeterminedError("cannot reach https://admin:s3cr3t@10.0.0.1:6443: refused\nsecond\tline",
                            hint="token at http://tok3n@host/x")
    assert cli_errors.report(exc) == 3
    err = capsys.readouterr().err
    assert err == "error: cannot reach https://***@10.0.0.1:6443: refused second\\tline\nhint: token at http://***@host/x\n"


def test_unexpected_errors_are_masked_too(capsys):
    try:
        raise RuntimeError("GET http://u:p4ss@h/x failed")
    except RuntimeError as e:
        cli_errors.report_unexpected(e, debug=True)
    err = capsys.readouterr().err
    assert "p4ss" not in err and "http://***@h/x" in err and "Traceback" in err


def test_debug_log_lines_are_masked(capsys):
    import logging

    cli_errors.install_log_redaction()
    cli_errors.install_log_redaction()  # idempotent
    logger = logging.getLogger("sgpctl.test.masking")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("connecting to %s", "https://user:hunter2@example.com:443/api")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert "hunter2" not in err and "https://***@example.com:443/api" in err
