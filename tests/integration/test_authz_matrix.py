"""Authorization matrix, generated from the route table: every /v1 management route × {admin,
power-user, read-only, member of another workspace, anonymous} → expected status.

A route added without a check fails here: anonymous must get 401, the other workspace's member 404
on anything under `{ws}`, read-only 403 on writes, and every guard's declared action must be
honoured as the seeded policies say.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from tests.conftest import login
from vmx_app.api.app import create_api
from vmx_app.auth.policy import POWER_USER_POLICY, READ_ONLY_POLICY, PolicyDocument, evaluate

PASSWORD = "Matrix-pass-123"
EXCLUDED_PREFIXES = ("/v1/completion/",)
PUBLIC = {  # route → status an anonymous caller gets (the app under test has no OIDC configured)
    ("POST", "/v1/auth/login"): 422,  # empty body
    ("GET", "/v1/auth/config"): 200,
    ("GET", "/v1/auth/oidc/login"): 404,
    ("GET", "/v1/auth/oidc/callback"): 404,
}
SELF_SERVICE = {("POST", "/v1/auth/logout"), ("POST", "/v1/auth/change-password"), ("GET", "/v1/auth/me")}
ADMIN_ONLY_PREFIXES = ("/v1/internal/",)
# Values for path parameters that are not ids of something the fixture creates.
PARAM_VALUES = {"provider": "openai", "name": "matrix-res", "resource_id": "00000000-0000-4000-8000-000000000001",
                "item_id": "00000000-0000-4000-8000-000000000000"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    action: str | None  # the policy action its guard declares; None = no tagged guard

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _guard_action(dependant: Any) -> str | None:
    for dep in dependant.dependencies:
        action = getattr(dep.call, "vmx_action", None)
        if action is not None:
            return str(action)
        nested = _guard_action(dep)
        if nested is not None:
            return nested
    return None


def management_routes() -> list[Route]:
    routes = []
    for ctx in iter_route_contexts(create_api().routes):
        path = ctx.path or ""
        if not path.startswith("/v1/") or path.startswith(EXCLUDED_PREFIXES):
            continue
        dependant = getattr(ctx, "dependant", None)
        for method in sorted((ctx.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append(Route(method, path, _guard_action(dependant) if dependant else None))
    return routes


ROUTES = management_routes()


@dataclass
class World:
    url: str
    clients: dict[str, httpx.Client]
    ws: str
    env: str
    user_id: str  # the read-only user: a member of ws
    ids: dict[str, str]  # first path segment after /v1 → an existing item id


def _create_user(admin: httpx.Client, email: str, role: str) -> str:
    r = admin.post("/v1/user", json={"email": email, "name": email.split("@")[0], "password": PASSWORD,
                                     "roles": [role]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


def _seed_items(world: World, admin: httpx.Client, power: httpx.Client) -> None:
    """One item per module that has `{id}` routes, so denials are checked against real objects."""
    base = f"{world.ws}/{world.env}"
    r = power.post(f"/v1/api-key/{base}", json={"name": "matrix-key"})
    assert r.status_code == 201, r.text
    paths = {r.path for r in ROUTES}
    if "/v1/ai-connection/{ws}/{env}" in paths:
        r = power.post(f"/v1/ai-connection/{base}", json={"name": "matrix-conn", "provider": "openai",
                                                          "config": {"apiKey": "sk-matrix"}})
        assert r.status_code == 201, r.text
        if "/v1/ai-resource/{ws}/{env}" in paths:
            slot = {"provider": "openai", "model": "gpt-4o-mini", "connectionId": r.json()["id"]}
            r = power.post(f"/v1/ai-resource/{base}", json={"name": "matrix-res", "model": slot})
            assert r.status_code == 201, r.text
    for route in ROUTES:
        if route.method != "GET" or "{id}" not in route.path:
            continue
        listing = route.path.split("/{id}")[0].replace("{ws}", world.ws).replace("{env}", world.env)
        module = route.path.split("/")[2]
        if module in world.ids:
            continue
        r = admin.get(listing)
        if r.status_code == 200 and r.json().get("data"):
            world.ids[module] = str(r.json()["data"][0]["id"])
        elif module == "model-pricing":
            r = admin.post("/v1/model-pricing", json={"provider": "openai", "model": "matrix-model"})
            assert r.status_code == 201, r.text
            world.ids[module] = str(r.json()["id"])


@pytest.fixture(scope="module")
def world(app_url: str, admin_token: str) -> Iterator[World]:
    tag = uuid.uuid4().hex[:8]
    admin = _client(app_url, admin_token)
    reader_id = _create_user(admin, f"reader-{tag}@matrix.test", "read-only")
    _create_user(admin, f"power-{tag}@matrix.test", "power-user")
    _create_user(admin, f"outsider-{tag}@matrix.test", "power-user")
    power = _client(app_url, login(app_url, f"power-{tag}@matrix.test", PASSWORD))
    reader = _client(app_url, login(app_url, f"reader-{tag}@matrix.test", PASSWORD))
    outsider = _client(app_url, login(app_url, f"outsider-{tag}@matrix.test", PASSWORD))
    ws = power.post("/v1/workspace", json={"name": f"matrix-{tag}"}).json()["id"]
    env = power.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    assert power.post(f"/v1/workspace/{ws}/assign", json={"userIds": [reader_id], "role": "MEMBER"}
                      ).status_code == 204
    assert outsider.post("/v1/workspace", json={"name": f"elsewhere-{tag}"}).status_code == 201
    clients = {"admin": admin, "power": power, "reader": reader, "outsider": outsider,
               "anonymous": _client(app_url, None)}
    w = World(app_url, clients, ws, env, reader_id, {})
    _seed_items(w, admin, power)
    yield w
    for c in clients.values():
        c.close()


# URL segment → policy module, where the original names them differently.
MODULE_OF_SEGMENT = {"completion-metric": "completion-metrics"}


def module_of(path: str) -> str:
    segment = path.split("/")[2]
    return MODULE_OF_SEGMENT.get(segment, segment)


def implied_action(route: Route) -> str:
    """For routes whose guard declares nothing: `<module>:<verb>` from the path and method."""
    verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}[route.method]
    return f"{module_of(route.path)}:{verb}"


def _policy_allows(policy: PolicyDocument, route: Route) -> bool:
    # Seeded policies are resource-agnostic: only the action decides.
    return evaluate([policy], route.action or implied_action(route), "*").allowed


def expected(route: Route, who: str) -> int | str:
    """A status code, or "allowed" (neither 401 nor 403, and no server error)."""
    key = (route.method, route.path)
    if key in PUBLIC:
        return PUBLIC[key]  # the same for everyone: these routes ignore the caller
    if who == "anonymous":
        return 401
    if key in SELF_SERVICE:
        return "allowed"
    if who == "outsider" and "{ws}" in route.path:
        return 404
    if who == "admin":
        return "allowed"
    if route.path.startswith(ADMIN_ONLY_PREFIXES):
        return 403
    policy = READ_ONLY_POLICY if who == "reader" else POWER_USER_POLICY
    return "allowed" if _policy_allows(policy, route) else 403


def concrete_path(route: Route, world: World, who: str) -> str:
    path = route.path
    allowed = expected(route, who) == "allowed"
    # Allowed callers delete a random id (404), so the fixture's objects survive the matrix.
    destroy = route.method == "DELETE" and allowed
    params = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
    for i, param in enumerate(params):
        last = i == len(params) - 1
        if destroy and last:
            value = str(uuid.uuid4())
        elif param == "ws":
            value = world.ws
        elif param == "env":
            value = world.env
        elif param == "user_id":
            value = world.user_id
        elif param == "id":
            value = world.ids.get(path.split("/")[2], str(uuid.uuid4()))
        elif param in PARAM_VALUES:
            value = PARAM_VALUES[param]
        else:
            pytest.fail(f"{route.id}: no test value for path parameter {{{param}}}; add one to PARAM_VALUES")
        path = path.replace("{" + param + "}", value, 1)
    return path


READ_VERBS = ("get", "list")
VERBS_BY_METHOD = {"GET": (*READ_VERBS, "export"), "DELETE": ("delete",), "PUT": ("update",), "PATCH": ("update",)}


def test_declared_actions_fit_routes() -> None:
    """A guard must check an action of its own module with a verb that fits the method, so a DELETE
    cannot hide behind a `:get` check that read-only users pass."""
    bad = []
    for route in ROUTES:
        if not route.action or route.path.startswith(ADMIN_ONLY_PREFIXES):
            continue
        module, _, verb = route.action.partition(":")
        if module != module_of(route.path):
            bad.append(f"{route.id}: action {route.action} is not of module {module_of(route.path)}")
        allowed = VERBS_BY_METHOD.get(route.method)
        if allowed is not None and not verb.startswith(allowed):
            bad.append(f"{route.id}: verb {verb!r} does not fit {route.method}")
        if route.method == "POST" and verb.startswith(READ_VERBS):
            bad.append(f"{route.id}: a POST checks the read verb {verb!r}")
    assert not bad, "\n".join(bad)


def test_route_table_is_covered() -> None:
    paths = {r.path for r in ROUTES}
    for required in ("/v1/user", "/v1/role", "/v1/workspace", "/v1/environment/{ws}", "/v1/api-key/{ws}/{env}",
                     "/v1/auth/me"):
        assert required in paths
    assert len(ROUTES) >= 40


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_matrix(route: Route, world: World) -> None:
    if (route.method, route.path) == ("POST", "/v1/auth/logout"):
        who_list = ["anonymous"]  # signing the shared clients out would break the rest of the matrix
    else:
        who_list = ["anonymous", "outsider", "reader", "power", "admin"]
    failures = []
    for who in who_list:
        want = expected(route, who)
        body = {} if route.method in WRITE_METHODS and route.method != "DELETE" else None
        r = world.clients[who].request(route.method, concrete_path(route, world, who), json=body)
        ok = (r.status_code not in (401, 403) and r.status_code < 500) if want == "allowed" \
            else r.status_code == want
        if ok and want != "allowed" and r.status_code != 200:
            ok = "error" in r.json() and r.json()["error"].get("code")  # the management error shape
        if not ok:
            failures.append(f"{who}: expected {want}, got {r.status_code} {r.text[:200]}")
        if want == "allowed" and route.method == "GET" and "{" not in route.path.split("/v1/")[1]:
            assert r.status_code == 200, f"{who}: {r.status_code} {r.text[:200]}"
    assert not failures, "\n".join(failures)
