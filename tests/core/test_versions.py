import pytest

from sgpctl.core.versions import MIN_ENIIPAMD_FOR_TRUNKING, at_least, image_tag, parse_version


@pytest.mark.parametrize("text,expected", [
    ("3.5.6", (3, 5, 6)), ("v3.5.6", (3, 5, 6)), ("3.5.6-tke.1", (3, 5, 6)), ("v3.6", (3, 6, 0)),
    ("10.0.1", (10, 0, 1)), ("latest", None), ("", None), (None, None),
])
def test_parse(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize("text,ok", [("3.5.5", False), ("3.5.6", True), ("v3.5.10", True), ("3.10.0", True), ("2.9.9", False), ("v4", True), ("dev", None)])
def test_trunking_minimum_compares_numerically(text, ok):
    assert at_least(text, MIN_ENIIPAMD_FOR_TRUNKING) is ok


@pytest.mark.parametrize("image,tag", [
    ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.5.6", "v3.5.6"),
    ("localhost:5000/eni-ipamd:3.6.0", "3.6.0"),
    ("localhost:5000/eni-ipamd", None),
    ("repo/eni@sha256:abc", None),
])
def test_image_tag(image, tag):
    assert image_tag(image) == tag
