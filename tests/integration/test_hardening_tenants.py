"""Tenants reaching what they should not (issue 9): masked secrets sent to a new endpoint, renames that
escape deny rules, names that would corrupt resource strings, and the read-only role's read verbs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlmodel import select

from tests.conftest import login
from vmx_app.auth.authorization import principal_for_token
from vmx_app.auth.policy import LEGACY_READ_ONLY_POLICIES, READ_ONLY_POLICY
from vmx_app.db import session_scope
from vmx_app.errors import Forbidden
from vmx_app.models import Role
from vmx_app.models.workspace import EnvironmentUpdate, WorkspaceUpdate
from vmx_app.services import connection_admin, environment_admin, resource_admin, workspace_admin
from vmx_app.services.bootstrap import seed_roles

MASK = "********"
PASSWORD = "Hardening-pass-123"
STORED_KEY = "sk-stored-secret-never-leaves"


class Collector:
    """An HTTP server standing for an attacker's URL: it records every Authorization header it sees."""

    def __init__(self) -> None:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                seen.append(self.headers.get("authorization", "") + self.headers.get("x-api-key", ""))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"object": "list", "data": []}')

            def log_message(self, *args: Any) -> None:
                pass

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def attacker() -> Iterator[Collector]:
    collector = Collector()
    yield collector
    collector.server.shutdown()
    collector.server.server_close()


@pytest.fixture
def env(admin_client: httpx.Client) -> dict[str, str]:
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    return {"ws": ws, "env": env, "conn": f"/v1/ai-connection/{ws}/{env}", "res": f"/v1/ai-resource/{ws}/{env}",
            "key": f"/v1/api-key/{ws}/{env}"}


def fields(r: httpx.Response) -> list[str]:
    return [d["field"] for d in r.json()["error"]["details"]]


# --- masked secrets ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("provider", "config", "edit", "field"), [
    ("openai", {"apiKey": STORED_KEY}, {"baseUrl": "ATTACKER"}, "config.apiKey"),
    ("openai-compatible", {"apiKey": STORED_KEY, "baseUrl": "https://api.example.test/v1"},
     {"baseUrl": "ATTACKER"}, "config.apiKey"),
    ("bedrock", {"region": "us-east-1", "accessKeyId": "AKIA1", "secretAccessKey": STORED_KEY},
     {"endpointUrl": "ATTACKER"}, "config.secretAccessKey"),
    ("bedrock", {"region": "us-east-1", "accessKeyId": "AKIA1", "secretAccessKey": STORED_KEY},
     {"region": "eu-west-1"}, "config.secretAccessKey"),
])
def test_a_masked_secret_is_not_sent_to_a_new_endpoint(admin_client: httpx.Client, env: dict[str, str],
                                                      attacker: Collector, provider: str, config: dict[str, Any],
                                                      edit: dict[str, str], field: str) -> None:
    created = admin_client.post(env["conn"], json={"name": "victim", "provider": provider, "config": config})
    assert created.status_code == 201, created.text
    url = f"{env['conn']}/{created.json()['id']}"
    masked = {k: (MASK if v == STORED_KEY else v) for k, v in config.items()}
    changed = {**masked, **{k: attacker.url if v == "ATTACKER" else v for k, v in edit.items()}}

    tested = admin_client.post(f"{url}/test", json={"config": changed})
    assert tested.status_code == 400, tested.text
    assert field in fields(tested) and "send the value" in tested.json()["error"]["message"]
    updated = admin_client.put(url, json={"config": changed})
    assert updated.status_code == 400, updated.text
    assert field in fields(updated)
    assert attacker.seen == []
    assert admin_client.get(url).json()["config"] == masked  # nothing changed

    # Sending the secret itself is fine: the caller knows it already.
    fresh = {**changed, field.split(".")[1]: "sk-the-callers-own"}
    assert admin_client.put(url, json={"config": fresh}).status_code == 200


def test_a_masked_secret_with_the_same_endpoint_still_stands_for_the_stored_one(
        admin_client: httpx.Client, env: dict[str, str], attacker: Collector) -> None:
    conn = admin_client.post(env["conn"], json={"name": "compat", "provider": "openai-compatible",
                                                "config": {"apiKey": STORED_KEY, "baseUrl": attacker.url}}).json()
    url = f"{env['conn']}/{conn['id']}"
    body = {"config": {"apiKey": MASK, "baseUrl": attacker.url}, "description": "edited"}
    assert admin_client.put(url, json=body).status_code == 200
    assert admin_client.post(f"{url}/test", json=body).json()["ok"] is True
    assert attacker.seen == [f"Bearer {STORED_KEY}"]


# --- renames and names -------------------------------------------------------------------------------

DENY_SECRET = {"statements": [
    {"effect": "deny", "actions": ["*"], "resources": [
        "workspace:*:environment:*:ai-resource:secret-*", "workspace:*:environment:*:ai-connection:secret-*",
        "workspace:*:environment:*:api-key:secret-*", "workspace:*:environment:secret-*", "workspace:secret-*",
        "role:secret-*", "user:secret-*", "model-pricing:*/secret-*"]},
    {"effect": "allow", "actions": ["*"], "resources": ["*"]},
]}


@pytest.fixture(scope="module")
def restricted(app_url: str, admin_client: httpx.Client) -> Iterator[tuple[httpx.Client, str]]:
    """A user allowed everything but names starting with `secret-`."""
    role = admin_client.post("/v1/role", json={"name": f"no-secrets-{uuid.uuid4().hex[:6]}",
                                               "policy": DENY_SECRET})
    assert role.status_code == 201, role.text
    email = f"r-{uuid.uuid4().hex[:8]}@hardening.test"
    user = admin_client.post("/v1/user", json={"email": email, "password": PASSWORD,
                                               "roles": [role.json()["name"]]})
    assert user.status_code == 201, user.text
    with httpx.Client(base_url=app_url, timeout=30,
                      headers={"Authorization": f"Bearer {login(app_url, email, PASSWORD)}"}) as client:
        yield client, user.json()["id"]


def test_renames_are_authorized_against_the_new_name(admin_client: httpx.Client,
                                                     restricted: tuple[httpx.Client, str]) -> None:
    client, user_id = restricted
    ws = client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()
    env = client.post(f"/v1/environment/{ws['id']}", json={"name": "prod"}).json()
    base = f"{ws['id']}/{env['id']}"
    conn = client.post(f"/v1/ai-connection/{base}", json={"name": "c", "provider": "openai",
                                                          "config": {"apiKey": "k"}}).json()
    res = client.post(f"/v1/ai-resource/{base}", json={"name": "r", "model": {
        "provider": "openai", "model": "gpt-4o", "connectionId": conn["id"]}}).json()
    key = client.post(f"/v1/api-key/{base}", json={"name": "k"}).json()
    other = admin_client.post("/v1/user", json={"email": f"u-{uuid.uuid4().hex[:8]}@hardening.test",
                                                "password": PASSWORD}).json()
    role = admin_client.post("/v1/role", json={"name": f"plain-{uuid.uuid4().hex[:6]}",
                                               "policy": {"statements": []}}).json()
    targets = [
        (f"/v1/ai-connection/{base}/{conn['id']}", "name"), (f"/v1/ai-resource/{base}/{res['id']}", "name"),
        (f"/v1/api-key/{base}/{key['id']}", "name"), (f"/v1/environment/{base}", "name"),
        (f"/v1/workspace/{ws['id']}", "name"), (f"/v1/role/{role['id']}", "name"),
        (f"/v1/user/{other['id']}", "email"),
    ]
    for path, field in targets:
        new = "secret-x" if field == "name" else "secret-x@hardening.test"
        r = client.put(path, json={field: new})
        assert r.status_code == 403, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "forbidden" and "secret-x" in r.json()["error"]["message"]
        # Any other new name is still fine.
        assert client.put(path, json={field: new.replace("secret-", "open-")}).status_code == 200, path


@pytest.mark.parametrize("name", ["a:b", "prod-*", "what?", "x:*"])
def test_resource_and_connection_names_follow_the_workspace_name_rule(admin_client: httpx.Client,
                                                                      env: dict[str, str], name: str) -> None:
    conn = admin_client.post(env["conn"], json={"name": "ok", "provider": "openai", "config": {"apiKey": "k"}})
    assert conn.status_code == 201
    bad_conn = admin_client.post(env["conn"], json={"name": name, "provider": "openai", "config": {"apiKey": "k"}})
    assert bad_conn.status_code == 422 and fields(bad_conn) == ["name"]
    assert admin_client.put(f"{env['conn']}/{conn.json()['id']}", json={"name": name}).status_code == 422
    slot = {"provider": "openai", "model": "gpt-4o", "connectionName": "ok"}
    bad_res = admin_client.post(env["res"], json={"name": name, "model": slot})
    assert bad_res.status_code == 422 and fields(bad_res) == ["name"]
    res = admin_client.post(env["res"], json={"name": "fine", "model": slot}).json()
    assert admin_client.put(f"{env['res']}/{res['id']}", json={"name": name}).status_code == 422


# --- the read-only role --------------------------------------------------------------------------------

def test_read_only_reads_members_usage_and_every_read_verb(app_url: str, admin_client: httpx.Client,
                                                           env: dict[str, str]) -> None:
    email = f"ro-{uuid.uuid4().hex[:8]}@hardening.test"
    reader = admin_client.post("/v1/user", json={"email": email, "password": PASSWORD, "roles": ["read-only"]})
    assert reader.status_code == 201, reader.text
    ws = env["ws"]
    assert admin_client.post(f"/v1/workspace/{ws}/assign",
                             json={"userIds": [reader.json()["id"]], "role": "MEMBER"}).status_code == 204
    role_id = next(r["id"] for r in admin_client.get("/v1/role").json()["data"] if r["name"] == "read-only")
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {login(app_url, email, PASSWORD)}"},
                      timeout=30) as client:
        assert client.get(f"/v1/workspace/{ws}").status_code == 200
        members = client.get(f"/v1/workspace/{ws}/members")
        assert members.status_code == 200, members.text
        assert email in [m["email"] for m in members.json()["data"]]
        assert client.get(f"/v1/role/{role_id}/members").status_code == 200
        me = client.get("/v1/auth/me").json()
        granted = {a for a, v in me["permissions"].items() if v != "none"}
        read_verbs = {a for a in me["permissions"] if a.split(":")[1].startswith(("get", "list"))}
        assert read_verbs | {"completion-usage:query"} <= granted
        assert not {a for a in granted if a.split(":")[1] in ("create", "update", "delete", "assign")}
        # Writes stay refused.
        assert client.post(f"/v1/workspace/{ws}/assign", json={"userIds": [], "role": "MEMBER"}).status_code == 403


async def test_the_console_path_checks_the_new_name_too(restricted: tuple[httpx.Client, str]) -> None:
    """The console's editors save through the services' use cases: the same rename check as the API."""
    client, _ = restricted
    principal = await principal_for_token(client.headers["authorization"].split(" ", 1)[1])
    assert principal is not None
    ws = client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    conn = client.post(f"/v1/ai-connection/{ws}/{env}", json={"name": "c", "provider": "openai",
                                                              "config": {"apiKey": "k"}}).json()["id"]
    res = client.post(f"/v1/ai-resource/{ws}/{env}", json={"name": "r", "model": {
        "provider": "openai", "model": "gpt-4o", "connectionId": conn}}).json()["id"]
    refused = [
        connection_admin.save_connection_as(principal, ws, env, conn, {"name": " secret-c "}),
        resource_admin.save_resource_as(principal, ws, env, res, {"name": "secret-r"}),
        environment_admin.update_environment_as(principal, ws, env, EnvironmentUpdate(name="secret-e")),
        workspace_admin.update_workspace_as(principal, ws, WorkspaceUpdate(name="secret-w")),
    ]
    for call in refused:
        with pytest.raises(Forbidden):
            await call
    assert await connection_admin.save_connection_as(principal, ws, env, conn, {"name": "open-c"}) == "open-c"


async def test_an_unedited_stored_read_only_role_is_upgraded_at_start(app_url: str) -> None:
    """Databases seeded by earlier versions hold `*:get, *:list`; start-up (`app_url` seeded the roles)
    brings that role up to date, and leaves an operator's own edits alone."""

    async def set_policy(policy: dict[str, Any]) -> None:
        async with session_scope() as session:
            role = (await session.exec(select(Role).where(Role.name == "read-only"))).one()
            role.policy = policy
            session.add(role)

    async def stored() -> dict[str, Any]:
        async with session_scope() as session:
            return dict((await session.exec(select(Role).where(Role.name == "read-only"))).one().policy)

    await set_policy(LEGACY_READ_ONLY_POLICIES[0].to_json())
    await seed_roles()
    assert await stored() == READ_ONLY_POLICY.to_json()
    edited = {"statements": [{"effect": "allow", "actions": ["workspace:list"], "resources": ["*"]}]}
    await set_policy(edited)
    await seed_roles()
    assert await stored() == edited
    await set_policy(READ_ONLY_POLICY.to_json())
