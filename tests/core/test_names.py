"""Name and id validators: each rule as Kubernetes or Tencent Cloud defines it, each refusal one line
naming the field and the rule, and no traversal string accepted by any rule.

Expected rules and messages are written from apimachinery's validation.go (IsDNS1123Label,
IsDNS1123Subdomain, IsDNS1035Label, IsValidPathSegmentName) and kubectl's output, and from the
documented Tencent Cloud id formats, not from sgpctl's code.
"""

import pytest

from sgpctl.core import names
from sgpctl.core.names import InvalidNameError

# Strings that would leave a URL path segment, or reach another object, if put into one unchecked.
TRAVERSAL = ["..", ".", "../..", "../../../../../../api/v1/namespaces/my-namespace/configmaps/victim",
             "a/b", "%2e%2e", "%2F", "?x=", "a?watch=1", "#", "a#b", "a\x00b", "a\nb", "\u00fcnicode", "\u202eevil",
             " ", "a b", "\\", ""]

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
             "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
                 "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
               "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
               "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")

ID_RULES = [names.cluster_id, names.security_group_id, names.eni_id, names.instance_id]
EVERY_RULE = [names.dns1123_label, names.dns1123_subdomain, names.dns1035_label, names.path_segment,
              names.namespace, names.cam_policy_name, names.region, *ID_RULES]


@pytest.mark.parametrize("rule", EVERY_RULE, ids=lambda r: r.__name__)
@pytest.mark.parametrize("value", TRAVERSAL, ids=repr)
def test_no_rule_lets_a_traversal_string_through(rule, value):
    # "." and ".." are CAM policy names by the CAM rule, but a CAM name never goes into a URL path.
    if rule is names.cam_policy_name and value in (".", ".."):
        assert rule(value, "--policy-name") == value
        return
    # The lenient path-segment rule (legacy Events) allows what percent-encoding makes harmless:
    # '?', '#', blanks, backslashes and non-ASCII letters (tests/cli/test_bad_input_corpus.py shows
    # the encoded path); never a separator, a dot segment, '%' or a control character.
    if rule is names.path_segment and value in ("?x=", "a?watch=1", "#", "a#b", "\u00fcnicode", " ", "a b", "\\"):
        assert rule(value, "NAME") == value
        return
    with pytest.raises(InvalidNameError) as e:
        rule(value, "FIELD")
    assert "\n" not in str(e.value) and str(e.value).startswith("FIELD ")


def test_namespace_refusal_reads_like_kubectl():
    with pytest.raises(InvalidNameError) as e:
        names.namespace("Bad_NS!", "-n/--namespace")
    assert str(e.value) == f"-n/--namespace 'Bad_NS!' is invalid: {LABEL_MSG}"
    assert e.value.field == "-n/--namespace" and e.value.value == "Bad_NS!"


def test_a_dotted_namespace_is_told_it_has_dots():
    with pytest.raises(InvalidNameError) as e:
        names.namespace("my.namespace")
    assert str(e.value) == "namespace 'my.namespace' is invalid: must not contain dots"


def test_lengths_are_in_bytes():
    assert names.dns1123_label("a" * 63, "n") == "a" * 63
    with pytest.raises(InvalidNameError, match="must be no more than 63 bytes"):
        names.dns1123_label("a" * 64, "n")
    sub = ".".join(["a" * 63] * 3) + "." + "b" * 61  # 253 characters
    assert names.dns1123_subdomain(sub, "n") == sub
    with pytest.raises(InvalidNameError, match="must be no more than 253 bytes"):
        names.dns1123_subdomain(sub + "b", "n")


def test_control_characters_are_escaped_in_the_message():
    with pytest.raises(InvalidNameError) as e:
        names.dns1123_subdomain("a\nb\x1b[2J", "NAME")
    assert str(e.value).startswith("NAME 'a\\nb\\x1b[2J' is invalid: ")


@pytest.mark.parametrize("group, kind, good, bad, message", [
    ("", "Namespace", "my-namespace", "my.namespace", "must not contain dots"),
    ("", "Pod", "web-5d66c74b84-j9t2l.x", "Web", SUBDOMAIN_MSG),
    ("", "Node", "10.0.1.11", "node_1", SUBDOMAIN_MSG),
    ("", "ConfigMap", "kube-proxy", "kube proxy", SUBDOMAIN_MSG),
    ("", "ServiceAccount", "default", "Default", SUBDOMAIN_MSG),
    ("", "Service", "my-svc", "1st-svc", DNS1035_MSG),
    ("apps", "Deployment", "nginx.v2", "nginx/v2", SUBDOMAIN_MSG),
    ("apps", "StatefulSet", "db", "-db", SUBDOMAIN_MSG),
    ("networking.k8s.io", "NetworkPolicy", "deny-all", "deny_all", SUBDOMAIN_MSG),
    ("vpcresources.tke.cloud.tencent.com", "SecurityGroupPolicy", "my-security-group-policy", "Bad Name!", SUBDOMAIN_MSG),
    ("networking.tke.cloud.tencent.com", "VpcENI", "web-5d66c74b84-j9t2l", "../x", SUBDOMAIN_MSG),
    ("coordination.k8s.io", "Lease", "sgpctl-my-namespace", "a/b", SUBDOMAIN_MSG),
    # core/v1 Events are not name-checked beyond path-segment rules (legacy validation)
    ("", "Event", "Web_1.17a8", "a/b", "may not contain '/'"),
])
def test_each_kind_uses_its_own_rule(group, kind, good, bad, message):
    assert names.object_name(group, kind, good) == good
    with pytest.raises(InvalidNameError) as e:
        names.object_name(group, kind, bad, "NAME")
    assert message in str(e.value)


def test_a_service_name_must_start_with_a_letter_but_a_pod_name_need_not():
    assert names.object_name("", "Pod", "1st-pod") == "1st-pod"
    with pytest.raises(InvalidNameError):
        names.object_name("", "Service", "1st-svc")


def test_path_segment_rule_is_apimachinerys():
    for value in ("Web_1", "a.b", "A:B", "x@y"):
        assert names.path_segment(value, "n") == value
    for value, why in ((".", "may not be '.'"), ("..", "may not be '..'"), ("a/b", "may not contain '/'"),
                       ("a%b", "may not contain '%'")):
        with pytest.raises(InvalidNameError, match=why):
            names.path_segment(value, "n")


@pytest.mark.parametrize("rule, good, bads", [
    (names.cluster_id, "cls-7ph3twqe", ["cls-7ph3twq", "cls-7PH3TWQE", "not-a-cluster", "cls-7ph3twqe ", "cls-7ph3twqe\n"]),
    (names.security_group_id, "sg-1a2b3c4d", ["sg-XYZ", "sg-1a2b3c4d5", "sg_1a2b3c4d"]),
    (names.eni_id, "eni-m6dyj72l", ["eni-", "ENI-m6dyj72l", "eni-m6dyj72l/x"]),
    (names.instance_id, "ins-r8hr2upy", ["ins-r8hr2up", "ins-../../x"]),
    (names.cam_policy_name, "SubENIForIPAMD", ["bad name with spaces", "a" * 129, "a/b", "\u00e9t\u00e9"]),
    (names.region, "ap-shanghai-fsi", ["nowhere-9", "AP-GUANGZHOU", "ap_guangzhou", "ap-", "guangzhou"]),
])
def test_tencent_ids_by_their_formats(rule, good, bads):
    assert rule(good, "F") == good
    for bad in bads:
        with pytest.raises(InvalidNameError):
            rule(bad, "F")


def test_upper_case_ids_are_told_ids_are_lowercase():
    with pytest.raises(InvalidNameError) as e:
        names.security_group_id("sg-1A2B3C4D", "--sg")
    assert str(e.value) == ("--sg 'sg-1A2B3C4D' is invalid: expected sg- followed by 8 lowercase letters or digits, "
                            "e.g. sg-1a2b3c4d; ids are lowercase")


@pytest.mark.parametrize("region", ["ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu",
                                    "ap-chongqing", "ap-hongkong", "ap-singapore", "ap-seoul", "ap-tokyo",
                                    "ap-bangkok", "ap-mumbai", "na-siliconvalley", "na-ashburn", "eu-frankfurt",
                                    "ap-shenzhen-fsi", "ap-shanghai-fsi", "ap-beijing-fsi", "sa-saopaulo"])
def test_every_documented_region_is_accepted(region):
    assert names.region(region, "--region") == region


def test_cam_policy_name_limits():
    assert names.cam_policy_name("a" * 128, "--policy-name") == "a" * 128
    assert names.cam_policy_name("+=,.@_-", "--policy-name") == "+=,.@_-"


def test_profile_names_stay_file_names_and_nothing_else_is_assumed():
    for good in ("default", "prod", "my profile", "team.a", "\u00e9quipe"):
        assert names.profile_name(good, "--profile") == good
    for bad in ("", ".", "..", "../x", "a/b", "a\\b", "a\x00b", "a\nb"):
        with pytest.raises(InvalidNameError):
            names.profile_name(bad, "--profile")


def test_plain_text_refuses_only_what_no_rule_allows():
    assert names.plain_text("IPAMDofTKE_QCSRole", "--role") == "IPAMDofTKE_QCSRole"
    assert names.plain_text("web pods/1", "NAME") == "web pods/1"
    for bad in ("", "a\x00", "a\nb", "\x1b[31m"):
        with pytest.raises(InvalidNameError):
            names.plain_text(bad, "--role")


def test_non_strings_are_refused_not_crashed_on():
    for value in (None, 5, ["a"], {"a": 1}, b"ns"):
        with pytest.raises(InvalidNameError, match="must be a string"):
            names.namespace(value, "namespace")
