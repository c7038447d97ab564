"""One authorization, two front ends: the same cases through the HTTP API and through the console's
path (`vmx_app.services.access`, what the services' use cases behind the console's handlers call) must
give the same answer.

Callers: admin, the workspace's owner (power-user), a power-user MEMBER (not owner), a read-only
MEMBER, and a power-user of another workspace. Each case is one guarded action; the API is called
with an empty body so an allowed call stops at validation (422) and changes nothing. The answer
compared is "allowed" or the refusal's error code (`forbidden`, `owner_required`, `not_found`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.conftest import login
from vmx_app.auth.authorization import Principal, principal_for_token, require
from vmx_app.auth.policy import role_resource, user_resource, workspace_resource
from vmx_app.db import session_scope
from vmx_app.errors import DomainError
from vmx_app.models import ApiKey
from vmx_app.services import access

PASSWORD = "Console-matrix-123"
CALLERS = ("admin", "owner", "member", "reader", "outsider")


@dataclass
class World:
    ws: str
    env: str
    key_id: str
    clients: dict[str, httpx.Client]
    tokens: dict[str, str]


ConsoleCheck = Callable[[AsyncSession, Principal, World], Awaitable[Any]]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str  # with {ws}, {env}, {key}
    console: ConsoleCheck


async def _global(action: str, resource: str, principal: Principal) -> None:
    require(principal, action, resource)


CASES = [
    Case("workspace:get", "GET", "/v1/workspace/{ws}",
         lambda s, p, w: access.workspace_for(s, p, w.ws, "workspace:get")),
    Case("workspace:update (owners)", "PUT", "/v1/workspace/{ws}",
         lambda s, p, w: access.owned_workspace_for(s, p, w.ws, "workspace:update")),
    Case("workspace:assign (owners)", "POST", "/v1/workspace/{ws}/assign",
         lambda s, p, w: access.owned_workspace_for(s, p, w.ws, "workspace:assign")),
    Case("environment:list", "GET", "/v1/environment/{ws}",
         lambda s, p, w: access.environments_of(s, p, w.ws, "environment:list")),
    Case("environment:create", "POST", "/v1/environment/{ws}",
         lambda s, p, w: access.environments_of(s, p, w.ws, "environment:create")),
    Case("environment:get", "GET", "/v1/environment/{ws}/{env}",
         lambda s, p, w: access.environment_for(s, p, w.ws, w.env, "environment:get")),
    Case("api-key:list", "GET", "/v1/api-key/{ws}/{env}",
         lambda s, p, w: access.env_module_for(s, p, w.ws, w.env, "api-key:list", "api-key")),
    Case("api-key:create", "POST", "/v1/api-key/{ws}/{env}",
         lambda s, p, w: access.env_module_for(s, p, w.ws, w.env, "api-key:create", "api-key")),
    Case("api-key:get", "GET", "/v1/api-key/{ws}/{env}/{key}",
         lambda s, p, w: access.env_item_for(s, p, w.ws, w.env, w.key_id, "api-key:get", "api-key", ApiKey)),
    Case("api-key:update", "PUT", "/v1/api-key/{ws}/{env}/{key}",
         lambda s, p, w: access.env_item_for(s, p, w.ws, w.env, w.key_id, "api-key:update", "api-key", ApiKey)),
    Case("user:list", "GET", "/v1/user", lambda s, p, w: _global("user:list", user_resource(), p)),
    Case("user:create", "POST", "/v1/user", lambda s, p, w: _global("user:create", user_resource(), p)),
    Case("role:create", "POST", "/v1/role", lambda s, p, w: _global("role:create", role_resource(), p)),
    Case("workspace:create", "POST", "/v1/workspace",
         lambda s, p, w: _global("workspace:create", workspace_resource(), p)),
]


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _user(admin: httpx.Client, url: str, email: str, role: str) -> tuple[str, str]:
    r = admin.post("/v1/user", json={"email": email, "name": email.split("@")[0], "password": PASSWORD,
                                     "roles": [role]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), login(url, email, PASSWORD)


@pytest.fixture(scope="module")
def world(app_url: str, admin_token: str) -> Iterator[World]:
    tag = uuid.uuid4().hex[:8]
    admin = _client(app_url, admin_token)
    tokens, ids = {"admin": admin_token}, {}
    for who, role in (("owner", "power-user"), ("member", "power-user"), ("reader", "read-only"),
                      ("outsider", "power-user")):
        ids[who], tokens[who] = _user(admin, app_url, f"{who}-{tag}@console-matrix.test", role)
    clients = {who: _client(app_url, token) for who, token in tokens.items()}
    owner = clients["owner"]
    ws = owner.post("/v1/workspace", json={"name": f"console-matrix-{tag}"}).json()["id"]
    env = owner.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    for who in ("member", "reader"):
        r = owner.post(f"/v1/workspace/{ws}/assign", json={"userIds": [ids[who]], "role": "MEMBER"})
        assert r.status_code == 204, r.text
    key = owner.post(f"/v1/api-key/{ws}/{env}", json={"name": "console-matrix-key"})
    assert key.status_code == 201, key.text
    yield World(ws, env, str(key.json()["id"]), clients, tokens)
    for c in clients.values():
        c.close()


def api_answer(world: World, case: Case, who: str) -> str:
    path = case.path.format(ws=world.ws, env=world.env, key=world.key_id)
    body = None if case.method == "GET" else {}
    r = world.clients[who].request(case.method, path, json=body)
    assert r.status_code < 500 and r.status_code != 401, f"{case.name} {who}: {r.status_code} {r.text[:200]}"
    if r.status_code in (403, 404):
        return str(r.json()["error"]["code"])
    return "allowed"


async def console_answer(world: World, case: Case, who: str) -> str:
    principal = await principal_for_token(world.tokens[who])
    assert principal is not None
    try:
        async with session_scope(readonly=True) as session:
            await case.console(session, principal, world)
    except DomainError as exc:
        return exc.code
    return "allowed"


# What the seeded roles and membership must give (a few anchors, so "both wrong alike" also fails).
ANCHORS = {
    ("workspace:update (owners)", "member"): "owner_required",
    ("workspace:update (owners)", "owner"): "allowed",
    ("workspace:get", "outsider"): "not_found",
    ("api-key:create", "reader"): "forbidden",
    ("api-key:get", "reader"): "allowed",
    ("user:create", "owner"): "forbidden",
    ("user:list", "reader"): "allowed",
    ("role:create", "admin"): "allowed",
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_api_and_console_agree(world: World, case: Case) -> None:
    mismatches = []
    for who in CALLERS:
        api, console = api_answer(world, case, who), await console_answer(world, case, who)
        if api != console:
            mismatches.append(f"{who}: API {api}, console {console}")
        anchor = ANCHORS.get((case.name, who))
        if anchor is not None and api != anchor:
            mismatches.append(f"{who}: expected {anchor}, both answered {api}")
    assert not mismatches, "\n".join(mismatches)


def test_anchors_name_real_cases() -> None:
    names = {c.name for c in CASES}
    assert {name for name, _ in ANCHORS} <= names and {who for _, who in ANCHORS} <= set(CALLERS)
