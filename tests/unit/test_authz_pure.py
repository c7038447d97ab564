"""Pure pieces of identity and access control, table-driven."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from starlette.requests import Request

from vmx_app.api.deps import request_token
from vmx_app.auth.policy import (
    ADMIN_POLICY,
    POWER_USER_POLICY,
    READ_ONLY_POLICY,
    PolicyDocument,
    environment_resource,
    evaluate,
    module_resource,
    workspace_resource,
)
from vmx_app.models.role import RoleCreate
from vmx_app.models.user import UserCreate
from vmx_app.models.workspace import WorkspaceCreate
from vmx_app.services.authz import action_summary


def _doc(*statements: dict[str, Any]) -> PolicyDocument:
    return PolicyDocument.model_validate({"statements": list(statements)})


@pytest.mark.parametrize(("name", "ok"), [
    ("acme", True), ("Acme Corp", True), ("équipe-1", True), ("a", True), ("x" * 100, True),
    ("", False), ("   ", False), ("a:b", False), ("prod*", False), ("pro?", False), ("x" * 101, False),
    ("tab\tname", False), ("line\nbreak", False),
])
def test_names_that_appear_in_resource_strings(name: str, ok: bool) -> None:
    if ok:
        assert WorkspaceCreate(name=name).name == name.strip()
    else:
        with pytest.raises(ValidationError):
            WorkspaceCreate(name=name)


@pytest.mark.parametrize(("email", "normalized"), [
    ("Ada@Example.COM", "ada@example.com"), ("  bob@corp.test ", "bob@corp.test"),
    ("admin@localhost", "admin@localhost"),
    ("no-at-sign", None), ("two@@ats", None), ("colon:me@x.y", None), ("star*@x.y", None), ("a b@x.y", None),
])
def test_user_emails(email: str, normalized: str | None) -> None:
    if normalized is None:
        with pytest.raises(ValidationError):
            UserCreate(email=email, password="long-enough-1234")
    else:
        assert UserCreate(email=email, password="long-enough-1234").email == normalized


@pytest.mark.parametrize(("name", "ok"), [("ops", True), ("team.a-1_b", True), ("-x", False), ("a b", False),
                                          ("role:x", False), ("", False)])
def test_role_names(name: str, ok: bool) -> None:
    body = {"name": name, "policy": {"statements": []}}
    if ok:
        assert RoleCreate.model_validate(body).name == name
    else:
        with pytest.raises(ValidationError):
            RoleCreate.model_validate(body)


@pytest.mark.parametrize(("policies", "action", "expected"), [
    ([ADMIN_POLICY], "user:create", "all"),
    ([POWER_USER_POLICY], "user:create", "none"),
    ([POWER_USER_POLICY], "role:assign", "none"),
    ([POWER_USER_POLICY], "workspace:create", "all"),
    ([POWER_USER_POLICY], "ai-connection:update", "all"),
    ([READ_ONLY_POLICY], "workspace:list", "all"),
    ([READ_ONLY_POLICY], "api-key:get", "all"),
    ([READ_ONLY_POLICY], "api-key:create", "none"),
    ([READ_ONLY_POLICY], "workspace:get-members", "all"),  # a read verb of its own (`*:get-*`)
    ([READ_ONLY_POLICY], "workspace:update-member-role", "none"),
    ([], "workspace:list", "none"),
    ([_doc({"effect": "allow", "actions": ["api-key:*"], "resources": ["workspace:acme:*"]})], "api-key:create",
     "some"),
    ([POWER_USER_POLICY, _doc({"effect": "deny", "actions": ["api-key:delete"], "resources": ["workspace:acme:*"]})],
     "api-key:delete", "some"),
    ([ADMIN_POLICY, _doc({"effect": "deny", "actions": ["*:delete"], "resources": ["*"]})], "workspace:delete",
     "none"),
])
def test_action_summary(policies: list[PolicyDocument], action: str, expected: str) -> None:
    assert action_summary(policies)[action] == expected


SCOPED = _doc(
    {"effect": "allow", "actions": ["workspace:get", "environment:*", "ai-resource:*"],
     "resources": ["workspace:acme", "workspace:acme:environment", "workspace:acme:environment:prod",
                   "workspace:acme:environment:prod:ai-resource*"]},
    {"effect": "deny", "actions": ["ai-resource:delete"],
     "resources": ["workspace:acme:environment:prod:ai-resource:core"]},
)


@pytest.mark.parametrize(("action", "resource", "allowed"), [
    ("workspace:get", workspace_resource("acme"), True),
    ("workspace:get", workspace_resource("other"), False),
    ("environment:list", environment_resource("acme"), True),
    ("environment:get", environment_resource("acme", "prod"), True),
    ("environment:get", environment_resource("acme", "dev"), False),
    ("ai-resource:list", module_resource("acme", "prod", "ai-resource"), True),
    ("ai-resource:update", module_resource("acme", "prod", "ai-resource", "chat"), True),
    ("ai-resource:delete", module_resource("acme", "prod", "ai-resource", "chat"), True),
    ("ai-resource:delete", module_resource("acme", "prod", "ai-resource", "core"), False),  # deny wins
    ("ai-resource:get", module_resource("acme", "dev", "ai-resource", "chat"), False),
    ("api-key:list", module_resource("acme", "prod", "api-key"), False),  # no statement: denied
])
def test_resource_strings_the_guards_check(action: str, resource: str, allowed: bool) -> None:
    assert evaluate([SCOPED], action, resource).allowed is allowed


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(("headers", "token"), [
    ({"Authorization": "Bearer abc"}, "abc"),
    ({"Authorization": "bearer   abc  "}, "abc"),
    ({"Cookie": "vmx_session=fromcookie"}, "fromcookie"),
    ({"Cookie": "other=1; vmx_session=c2"}, "c2"),
    ({"Authorization": "Bearer hdr", "Cookie": "vmx_session=ck"}, "hdr"),  # API clients win over the cookie
    ({"Authorization": "Basic dXNlcjpwdw==", "Cookie": "vmx_session=ck"}, None),  # a wrong scheme is not ignored
    ({"Authorization": "Bearer "}, None),
    ({}, None),
    ({"Cookie": "vmx_session="}, None),
])
def test_request_token(headers: dict[str, str], token: str | None) -> None:
    assert request_token(_request(headers)) == token
