"""Users, roles, workspaces, members, environments and API keys through the management API."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from tests.conftest import login
from vmx_app.db import dispose_engines, session_scope
from vmx_app.models import ApiKey

PASSWORD = "Tenancy-pass-123"


@dataclass
class Person:
    id: str
    email: str
    client: httpx.Client


def _person(app_url: str, admin: httpx.Client, *roles: str) -> Person:
    email = f"t-{uuid.uuid4().hex[:10]}@tenancy.test"
    r = admin.post("/v1/user", json={"email": email, "name": "T", "password": PASSWORD, "roles": list(roles)})
    assert r.status_code == 201, r.text
    token = login(app_url, email, PASSWORD)
    return Person(r.json()["id"], email, httpx.Client(base_url=app_url, timeout=30,
                                                      headers={"Authorization": f"Bearer {token}"}))


@pytest.fixture(scope="module")
def people(app_url: str, admin_client: httpx.Client) -> Iterator[dict[str, Person]]:
    team = {"owner": _person(app_url, admin_client, "power-user"),
            "member": _person(app_url, admin_client, "power-user"),
            "reader": _person(app_url, admin_client, "read-only"),
            "stranger": _person(app_url, admin_client, "power-user")}
    yield team
    for p in team.values():
        p.client.close()


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def workspace(people: dict[str, Person]) -> dict[str, str]:
    """A workspace owned by `owner`, with `member` (MEMBER), `reader` (MEMBER) and an environment."""
    owner = people["owner"].client
    ws = owner.post("/v1/workspace", json={"name": _name("ws"), "description": "team"}).json()
    r = owner.post(f"/v1/workspace/{ws['id']}/assign",
                   json={"userIds": [people["member"].id, people["reader"].id], "role": "MEMBER"})
    assert r.status_code == 204, r.text
    env = owner.post(f"/v1/environment/{ws['id']}", json={"name": "prod"}).json()
    return {"ws": ws["id"], "ws_name": ws["name"], "env": env["id"]}


# --- users -----------------------------------------------------------------------------------------


def test_user_crud_and_validation(admin_client: httpx.Client) -> None:
    email = f"Crud-{uuid.uuid4().hex[:6]}@Tenancy.test"
    r = admin_client.post("/v1/user", json={"email": email, "name": "Crud", "password": PASSWORD,
                                            "roles": ["read-only"]})
    assert r.status_code == 201
    user = r.json()
    assert user["email"] == email.lower() and user["roles"] == ["read-only"] and user["state"] == "ACTIVE"
    assert "password" not in user and "passwordHash" not in user and uuid.UUID(user["id"])
    assert admin_client.post("/v1/user", json={"email": email, "password": PASSWORD}).status_code == 409
    for body, field in (({"email": "nope", "password": PASSWORD}, "email"),
                        ({"email": "a@b.c", "password": "short"}, "password"),
                        ({"email": "a@b.c", "password": PASSWORD, "state": "GONE"}, "state"),
                        ({"email": "a@b.c", "password": PASSWORD, "isAdmin": True}, "isAdmin")):
        r = admin_client.post("/v1/user", json=body)
        assert r.status_code == 422 and field in r.json()["error"]["message"], r.text
    r = admin_client.post("/v1/user", json={"email": "x@y.z", "password": PASSWORD, "roles": ["no-such-role"]})
    assert r.status_code == 400 and "no-such-role" in r.json()["error"]["message"]
    r = admin_client.put(f"/v1/user/{user['id']}", json={"name": "Renamed", "firstName": "Re"})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r.json()["firstName"] == "Re"
    assert admin_client.get(f"/v1/user/{user['id']}").json()["name"] == "Renamed"
    assert admin_client.get(f"/v1/user/{uuid.uuid4()}").status_code == 404
    assert admin_client.get("/v1/user/not-a-uuid").status_code == 422
    listing = admin_client.get("/v1/user", params={"pageSize": 2}).json()
    assert len(listing["data"]) == 2 and listing["total"] >= 2 and listing["pageSize"] == 2
    assert admin_client.delete(f"/v1/user/{user['id']}").status_code == 204
    assert admin_client.get(f"/v1/user/{user['id']}").status_code == 404


def test_admin_cannot_delete_itself(admin_client: httpx.Client) -> None:
    me = admin_client.get("/v1/auth/me").json()
    r = admin_client.delete(f"/v1/user/{me['id']}")
    assert r.status_code == 400


# --- roles -----------------------------------------------------------------------------------------


def test_permission_catalog(admin_client: httpx.Client) -> None:
    modules = {m["name"]: m for m in admin_client.get("/v1/role/permissions").json()["modules"]}
    assert "workspace:get-members" in modules["workspace"]["actions"]
    assert modules["api-key"]["itemResource"].endswith(":api-key:${api-key.name}")


@pytest.mark.parametrize(("policy", "field"), [
    ({"statements": [{"effect": "permit", "actions": ["*"], "resources": ["*"]}]}, "policy.statements.0.effect"),
    ({"statements": [{"effect": "allow", "actions": [], "resources": ["*"]}]}, "policy.statements.0.actions"),
    ({"statements": [{"effect": "allow", "actions": ["*"]}]}, "policy.statements.0.resources"),
    ({"statements": [{"effect": "allow", "actions": ["*"], "resources": ["*"], "when": 1}]},
     "policy.statements.0.when"),
    ({"statements": "all"}, "policy.statements"),
])
def test_invalid_policy_documents_are_rejected_naming_the_field(admin_client: httpx.Client,
                                                                 policy: dict[str, object], field: str) -> None:
    r = admin_client.post("/v1/role", json={"name": _name("bad"), "policy": policy})
    assert r.status_code == 422
    assert field in [d["field"] for d in r.json()["error"]["details"]], r.text


def test_system_roles_are_protected(admin_client: httpx.Client) -> None:
    roles = {r["name"]: r for r in admin_client.get("/v1/role").json()["data"]}
    assert {"admin", "power-user", "read-only"} <= set(roles) and roles["admin"]["isSystem"] is True
    for name in ("admin", "power-user", "read-only"):
        r = admin_client.delete(f"/v1/role/{roles[name]['id']}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "system_role"
    assert admin_client.put(f"/v1/role/{roles['read-only']['id']}", json={"name": "reader"}).status_code == 400
    r = admin_client.put(f"/v1/role/{roles['admin']['id']}",
                         json={"policy": {"statements": [{"effect": "deny", "actions": ["*"], "resources": ["*"]}]}})
    assert r.status_code == 400
    # Taking the admin role from every holder at once would lock everyone out.
    admins = admin_client.get(f"/v1/role/{roles['admin']['id']}/members").json()["data"]
    r = admin_client.post(f"/v1/role/{roles['admin']['id']}/unassign", json={"userIds": [a["id"] for a in admins]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "last_admin"


def test_custom_role_lifecycle_and_effect(app_url: str, admin_client: httpx.Client,
                                          people: dict[str, Person], workspace: dict[str, str]) -> None:
    """Deny wins across roles, and resource strings carry names: a role that denies API-key changes in
    one workspace blocks a power user there, and only there."""
    ws_name = workspace["ws_name"]
    name = _name("no-keys")
    policy = {"statements": [{"effect": "deny", "actions": ["api-key:create", "api-key:delete"],
                              "resources": [f"workspace:{ws_name}:environment:*"]}]}
    r = admin_client.post("/v1/role", json={"name": name, "description": "no keys here", "policy": policy})
    assert r.status_code == 201, r.text
    role = r.json()
    assert role["policy"]["statements"][0]["effect"] == "deny" and role["isSystem"] is False
    assert admin_client.post("/v1/role", json={"name": name, "policy": policy}).status_code == 409
    member = people["member"]
    assert admin_client.post(f"/v1/role/{role['id']}/assign", json={"userIds": [member.id]}).status_code == 204
    members = admin_client.get(f"/v1/role/{role['id']}/members").json()
    assert [m["email"] for m in members["data"]] == [member.email] and members["total"] == 1
    # Policies are read per request: the member's open session feels the new role at once.
    base = f"/v1/api-key/{workspace['ws']}/{workspace['env']}"
    r = member.client.post(base, json={"name": "blocked"})
    assert r.status_code == 403 and r.json()["error"]["details"]["action"] == "api-key:create"
    assert member.client.get(base).status_code == 200  # list is not denied
    other = member.client.post("/v1/workspace", json={"name": _name("mine")}).json()
    other_env = member.client.post(f"/v1/environment/{other['id']}", json={"name": "dev"}).json()
    assert member.client.post(f"/v1/api-key/{other['id']}/{other_env['id']}",
                              json={"name": "fine"}).status_code == 201
    assert admin_client.post(f"/v1/role/{role['id']}/unassign", json={"userIds": [member.id]}).status_code == 204
    assert member.client.post(base, json={"name": "now-ok"}).status_code == 201
    r = admin_client.put(f"/v1/role/{role['id']}", json={"description": "changed"})
    assert r.status_code == 200 and r.json()["description"] == "changed" and r.json()["name"] == name
    assert admin_client.delete(f"/v1/role/{role['id']}").status_code == 204
    assert admin_client.get(f"/v1/role/{role['id']}").status_code == 404
    assert admin_client.post(f"/v1/role/{uuid.uuid4()}/assign", json={"userIds": [member.id]}).status_code == 404
    r = admin_client.post("/v1/role", json={"name": "bad:name", "policy": policy})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "name"


# --- workspaces and members ------------------------------------------------------------------------


def test_workspace_visibility_and_ownership(admin_client: httpx.Client, people: dict[str, Person],
                                            workspace: dict[str, str]) -> None:
    owner, member, stranger = people["owner"].client, people["member"].client, people["stranger"].client
    ws = workspace["ws"]
    mine = {w["id"]: w for w in member.get("/v1/workspace", params={"pageSize": 1000}).json()["data"]}
    assert mine[ws]["memberRole"] == "MEMBER" and mine[ws]["name"] == workspace["ws_name"]
    assert ws not in {w["id"] for w in stranger.get("/v1/workspace", params={"pageSize": 1000}).json()["data"]}
    assert ws in {w["id"] for w in admin_client.get("/v1/workspace", params={"pageSize": 1000}).json()["data"]}
    # Another tenant's ids answer 404, exactly like ids that do not exist.
    for path in (f"/v1/workspace/{ws}", f"/v1/workspace/{ws}/members", f"/v1/environment/{ws}",
                 f"/v1/environment/{ws}/{workspace['env']}", f"/v1/api-key/{ws}/{workspace['env']}"):
        hidden, missing = stranger.get(path), stranger.get(path.replace(ws, str(uuid.uuid4())))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["error"]["code"] == "not_found"
    # Members work in the workspace but only owners rename, delete it or manage members.
    assert member.post(f"/v1/environment/{ws}", json={"name": _name("staging")}).status_code == 201
    for method, path, body in (("PUT", f"/v1/workspace/{ws}", {"name": _name("x")}),
                               ("DELETE", f"/v1/workspace/{ws}", None),
                               ("POST", f"/v1/workspace/{ws}/assign", {"userIds": [people["stranger"].id]}),
                               ("POST", f"/v1/workspace/{ws}/unassign", {"userIds": [people["reader"].id]}),
                               ("PUT", f"/v1/workspace/{ws}/members/{people['member'].id}/role", {"role": "OWNER"})):
        r = member.request(method, path, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "owner_required", (method, path, r.text)
    r = owner.put(f"/v1/workspace/{ws}", json={"description": "renamed team"})
    assert r.status_code == 200 and r.json()["description"] == "renamed team"
    assert owner.post("/v1/workspace", json={"name": workspace["ws_name"].upper()}).status_code == 409


def test_members_assign_role_unassign(people: dict[str, Person], workspace: dict[str, str]) -> None:
    owner, ws = people["owner"].client, workspace["ws"]
    members = {m["userId"]: m for m in owner.get(f"/v1/workspace/{ws}/members").json()["data"]}
    assert members[people["owner"].id]["role"] == "OWNER" and members[people["member"].id]["role"] == "MEMBER"
    r = owner.put(f"/v1/workspace/{ws}/members/{people['member'].id}/role", json={"role": "OWNER"})
    assert r.status_code == 200 and r.json()["role"] == "OWNER" and r.json()["email"] == people["member"].email
    # Now the former member may manage members.
    r = people["member"].client.post(f"/v1/workspace/{ws}/assign",
                                     json={"userIds": [people["stranger"].id], "role": "MEMBER"})
    assert r.status_code == 204
    assert people["stranger"].client.get(f"/v1/workspace/{ws}").status_code == 200
    assert owner.post(f"/v1/workspace/{ws}/unassign", json={"userIds": [people["stranger"].id]}).status_code == 204
    assert people["stranger"].client.get(f"/v1/workspace/{ws}").status_code == 404
    r = owner.post(f"/v1/workspace/{ws}/unassign", json={"userIds": [people["owner"].id, people["member"].id]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "last_owner"
    r = owner.post(f"/v1/workspace/{ws}/assign", json={"userIds": [str(uuid.uuid4())]})
    assert r.status_code == 404
    r = owner.post(f"/v1/workspace/{ws}/assign", json={"userIds": [people["stranger"].id], "role": "KING"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "role"
    r = owner.put(f"/v1/workspace/{ws}/members/{uuid.uuid4()}/role", json={"role": "MEMBER"})
    assert r.status_code == 404


def test_owner_deletes_workspace(people: dict[str, Person], workspace: dict[str, str]) -> None:
    owner, ws = people["owner"].client, workspace["ws"]
    assert owner.delete(f"/v1/workspace/{ws}").status_code == 204
    assert owner.get(f"/v1/workspace/{ws}").status_code == 404
    assert owner.get(f"/v1/environment/{ws}/{workspace['env']}").status_code == 404


@pytest.mark.parametrize("name", ["", "a:b", "wild*", "what?", "x" * 101])
def test_workspace_names_that_would_break_resource_strings(people: dict[str, Person], name: str) -> None:
    r = people["owner"].client.post("/v1/workspace", json={"name": name})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "name"


# --- environments ----------------------------------------------------------------------------------


def test_environment_crud(people: dict[str, Person], workspace: dict[str, str]) -> None:
    c, ws = people["member"].client, workspace["ws"]
    r = c.post(f"/v1/environment/{ws}", json={"name": "dev", "description": "d", "auditRetentionDays": 30})
    assert r.status_code == 201, r.text
    env = r.json()
    assert env["workspaceId"] == ws and env["auditRetentionDays"] == 30 and env["auditStorePayloads"] is True
    assert c.post(f"/v1/environment/{ws}", json={"name": "DEV"}).status_code == 409
    r = c.post(f"/v1/environment/{ws}", json={"name": "x", "auditRetentionDays": 0})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "auditRetentionDays"
    listing = c.get(f"/v1/environment/{ws}").json()
    assert {e["name"] for e in listing["data"]} == {"prod", "dev"} and listing["total"] == 2
    r = c.put(f"/v1/environment/{ws}/{env['id']}", json={"name": "development", "auditStorePayloads": False})
    assert r.status_code == 200 and r.json()["name"] == "development" and r.json()["auditStorePayloads"] is False
    assert c.put(f"/v1/environment/{ws}/{env['id']}", json={"name": "prod"}).status_code == 409
    # An environment addressed through another workspace does not exist.
    other = c.post("/v1/workspace", json={"name": _name("other")}).json()
    assert c.get(f"/v1/environment/{other['id']}/{env['id']}").status_code == 404
    assert c.delete(f"/v1/environment/{ws}/{env['id']}").status_code == 204
    assert c.get(f"/v1/environment/{ws}/{env['id']}").status_code == 404


# --- API keys --------------------------------------------------------------------------------------


async def test_api_key_lifecycle(people: dict[str, Person], workspace: dict[str, str]) -> None:
    c = people["member"].client
    base = f"/v1/api-key/{workspace['ws']}/{workspace['env']}"
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    r = c.post(base, json={"name": "ci", "labels": ["team-a", "ci"], "enforceCapacity": True, "expiresAt": expires,
                           "capacity": [{"period": "minute", "requests": 60, "tokens": 10000}]})
    assert r.status_code == 201, r.text
    created = r.json()
    value = created["apiKeyValue"]
    assert re.fullmatch(r"vmx-[A-Za-z0-9]{48}", value)
    assert created["maskedKey"].startswith(value[:8]) and created["maskedKey"].endswith(value[-4:])
    assert "*" in created["maskedKey"] and created["resources"] == [] and created["enabled"] is True
    assert created["capacity"] == [{"period": "minute", "requests": 60, "tokens": 10000, "enabled": True}]
    key_id = created["id"]
    # Shown once: reads never carry the value or its hash.
    for text in (c.get(f"{base}/{key_id}").text, c.get(base).text):
        assert value not in text and "apiKeyValue" not in text and "keyHash" not in text
    try:
        async with session_scope() as session:
            row = (await session.exec(select(ApiKey).where(ApiKey.name == "ci",
                                                           ApiKey.environment_id == uuid.UUID(workspace["env"])))).one()
            assert row.key_hash == hashlib.sha256(value.encode()).hexdigest()
            assert value not in repr(row.model_dump())
    finally:
        await dispose_engines()
    assert c.post(base, json={"name": "ci"}).status_code == 409
    r = c.put(f"{base}/{key_id}", json={"enabled": False, "expiresAt": None, "labels": ["x"]})
    assert r.status_code == 200
    assert r.json()["enabled"] is False and r.json()["expiresAt"] is None and r.json()["labels"] == ["x"]
    assert r.json()["enforceCapacity"] is True  # absent fields are kept
    assert c.delete(f"{base}/{key_id}").status_code == 204
    assert c.get(f"{base}/{key_id}").status_code == 404


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"name": "k", "capacity": [{"period": "fortnight"}]}, 422, "capacity.0.period"),
    ({"name": "k", "capacity": [{"period": "minute", "requests": -1}]}, 422, "capacity.0.requests"),
    ({"name": "k", "resources": ["not-a-uuid"]}, 422, "resources.0"),
    ({"name": "k", "expiresAt": "2020-01-01T00:00:00Z"}, 400, "expiresAt"),
    ({"name": "k", "expiresAt": "2999-01-01T00:00:00"}, 422, "expiresAt"),
    ({"name": "k", "enabled": "sometimes"}, 422, "enabled"),
    ({"name": "k", "keyHash": "abc"}, 422, "keyHash"),
])
def test_api_key_bad_input_names_the_field(people: dict[str, Person], workspace: dict[str, str],
                                           body: dict[str, object], status: int, field: str) -> None:
    r = people["member"].client.post(f"/v1/api-key/{workspace['ws']}/{workspace['env']}", json=body)
    assert r.status_code == status, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]


def test_api_key_resources_must_belong_to_the_environment(people: dict[str, Person],
                                                          workspace: dict[str, str]) -> None:
    r = people["member"].client.post(f"/v1/api-key/{workspace['ws']}/{workspace['env']}",
                                     json={"name": "scoped", "resources": [str(uuid.uuid4())]})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "resources.0"


def test_read_only_member_sees_but_cannot_change(people: dict[str, Person], workspace: dict[str, str]) -> None:
    """The issue's closing scenario: a read-only user sees the workspace, environment and key."""
    owner, reader = people["owner"].client, people["reader"].client
    ws, env = workspace["ws"], workspace["env"]
    key = owner.post(f"/v1/api-key/{ws}/{env}", json={"name": "shared"}).json()
    assert ws in {w["id"] for w in reader.get("/v1/workspace", params={"pageSize": 1000}).json()["data"]}
    assert reader.get(f"/v1/environment/{ws}/{env}").status_code == 200
    keys = reader.get(f"/v1/api-key/{ws}/{env}").json()["data"]
    assert [k["name"] for k in keys] == ["shared"] and "apiKeyValue" not in keys[0]
    for method, path, body in (("POST", f"/v1/api-key/{ws}/{env}", {"name": "mine"}),
                               ("PUT", f"/v1/api-key/{ws}/{env}/{key['id']}", {"enabled": False}),
                               ("DELETE", f"/v1/api-key/{ws}/{env}/{key['id']}", None),
                               ("POST", f"/v1/environment/{ws}", {"name": "qa"}),
                               ("PUT", f"/v1/environment/{ws}/{env}", {"name": "qa"}),
                               ("POST", "/v1/workspace", {"name": _name("nope")})):
        r = reader.request(method, path, json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", (method, path, r.text)
    assert owner.get(f"/v1/api-key/{ws}/{env}/{key['id']}").json()["enabled"] is True
