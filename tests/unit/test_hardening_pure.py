"""Pure parts of issue 9's management hardening: JSON depth, password rules, the Secure-cookie switch,
the login throttle's delay curve."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from vmx_app.api.body_limits import json_depth_exceeds
from vmx_app.json_limits import json_depth
from vmx_app.password_policy import password_problem
from vmx_app.services.login_throttle import MAX_DELAY, pair_delay
from vmx_app.settings import Settings


@pytest.mark.parametrize(("value", "depth"), [(1, 0), ("s", 0), ({}, 1), ([], 1), ({"a": [1]}, 2),
                                              ({"a": {"b": {"c": {}}}, "d": [[[[]]]]}, 5)])
def test_json_depth(value: object, depth: int) -> None:
    assert json_depth(value) == depth
    raw = json.dumps(value).encode()
    assert json_depth_exceeds(raw, depth) is False
    assert json_depth_exceeds(raw, depth - 1) is (depth > 0)


def test_depth_of_a_value_too_deep_for_recursion() -> None:
    value: list[object] = []
    for _ in range(100_000):
        value = [value]
    assert json_depth(value) == 100_001


@pytest.mark.parametrize("raw", [b'{"a": "[[[[[[", "b": "\\"[[[["}', b'["]]]]]", "{{{{"]', b'"\\\\[[["'])
def test_brackets_inside_strings_do_not_count(raw: bytes) -> None:
    assert json_depth_exceeds(raw, 1) is False


@pytest.mark.parametrize(("password", "ok"), [
    ("Admin-password-1", True), ("correct horse battery", True), ("Viewer-own-pass-2", True),
    ("Short-pw-1", False), ("password1234", False), ("PASSWORD1234", False), ("1234567890123", False),
    ("aaaaaaaaaaaaaaaa", False), ("x" * 257, False),
])
def test_password_rules(password: str, ok: bool) -> None:
    assert (password_problem(password) is None) is ok


@pytest.mark.parametrize(("base_url", "switch", "secure"), [
    (None, None, False), ("http://vmx.example", None, False), ("https://vmx.example", None, True),
    ("HTTPS://VMX.EXAMPLE", None, True), ("https://vmx.example", False, False), ("http://vmx.example", True, True),
])
def test_cookie_secure_follows_the_base_url_unless_forced(base_url: str | None, switch: bool | None,
                                                          secure: bool) -> None:
    assert Settings(vmx_base_url=base_url, vmx_cookie_secure=switch).cookie_secure is secure


def test_login_delay_doubles_up_to_the_cap() -> None:
    assert [pair_delay(n).total_seconds() for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 16]
    assert pair_delay(14) == pair_delay(1000) == MAX_DELAY == timedelta(minutes=15)
