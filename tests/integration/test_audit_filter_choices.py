"""The audit page's filter choices (resources, connections and API keys by name) follow the same policy
as their own lists: a user who may read the audit trail but not list a module is offered none of its
names, and one who may not read the audit trail is refused."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import login
from tests.sdk.env import check
from vmx_app.auth.authorization import principal_for_token
from vmx_app.errors import Forbidden
from vmx_app.services import audit_admin

PASSWORD = "Filter-choices-123"


def _user(app_url: str, admin: httpx.Client, ws: str, statements: list[dict[str, object]]) -> str:
    tag = uuid.uuid4().hex[:8]
    role = check(admin.post("/v1/role", json={"name": f"audit-{tag}", "policy": {"statements": statements}}))
    email = f"audit-{tag}@choices.test"
    user = check(admin.post("/v1/user", json={"email": email, "password": PASSWORD, "roles": [role["name"]]}))
    assert admin.post(f"/v1/workspace/{ws}/assign", json={"userIds": [user["id"]], "role": "MEMBER"}).status_code == 204
    return login(app_url, email, PASSWORD)


async def test_choices_follow_each_modules_list_policy(app_url: str, admin_client: httpx.Client,
                                                      admin_token: str) -> None:
    ws = check(admin_client.post("/v1/workspace", json={"name": f"choices-{uuid.uuid4().hex[:6]}"}))["id"]
    env = check(admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}))["id"]
    conns = {name: check(admin_client.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": name, "provider": "openai", "config": {"apiKey": "sk-x"}}))["id"] for name in ("zeta", "alpha")}
    res = check(admin_client.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai", "model": "gpt-4o", "connectionId": conns["alpha"]}}))["id"]
    key = check(admin_client.post(f"/v1/api-key/{ws}/{env}", json={"name": "app"}))["id"]

    admin = await principal_for_token(admin_token)
    assert admin is not None
    assert await audit_admin.filter_choices_as(admin, ws, env) == {
        "ai-resource": [(res, "chat")], "ai-connection": [(conns["alpha"], "alpha"), (conns["zeta"], "zeta")],
        "api-key": [(key, "app")]}

    auditor = await principal_for_token(_user(app_url, admin_client, ws, [
        {"effect": "allow", "actions": ["completion-audit:list", "ai-connection:list"], "resources": ["*"]}]))
    assert auditor is not None
    assert await audit_admin.filter_choices_as(auditor, ws, env) == {
        "ai-resource": [], "ai-connection": [(conns["alpha"], "alpha"), (conns["zeta"], "zeta")], "api-key": []}

    outsider = await principal_for_token(_user(app_url, admin_client, ws, [
        {"effect": "allow", "actions": ["ai-resource:list", "ai-connection:list", "api-key:list"],
         "resources": ["*"]}]))
    assert outsider is not None
    with pytest.raises(Forbidden):
        await audit_admin.filter_choices_as(outsider, ws, env)
