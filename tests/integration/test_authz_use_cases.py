"""The multi-step use cases (`vmx_app.services.user_admin`) answer the same through the API and as the
console calls them: creating a user needs `user:create` and `role:assign` on every role given, in both.

A "user maker" role may create users and assign only `read-only`; the admin may do everything; a
read-only user may do neither. Each call creates a real user (unique emails), so "allowed" is a 201 in
the API and a returned user in the console.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import login
from vmx_app.auth.authorization import principal_for_token
from vmx_app.errors import DomainError
from vmx_app.models.user import UserCreate, UserUpdate
from vmx_app.services import user_admin
from vmx_app.services import users as users_service
from vmx_app.services.unit_of_work import use_session

PASSWORD = "Use-cases-matrix-123"
MAKER_POLICY = {"statements": [
    {"effect": "allow", "actions": ["user:create", "user:list", "user:get", "user:update"], "resources": ["user*"]},
    {"effect": "allow", "actions": ["role:assign"], "resources": ["role:read-only"]},
]}


@dataclass
class Callers:
    tokens: dict[str, str]
    tag: str


def _create(client: httpx.Client, email: str, roles: list[str]) -> httpx.Response:
    return client.post("/v1/user", json={"email": email, "name": email.split("@")[0], "password": PASSWORD,
                                         "roles": roles})


@pytest.fixture(scope="module")
def callers(app_url: str, admin_token: str) -> Iterator[Callers]:
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as admin:
        role = admin.post("/v1/role", json={"name": f"user-maker-{tag}", "policy": MAKER_POLICY})
        assert role.status_code == 201, role.text
        tokens = {"admin": admin_token}
        for who, roles in (("maker", [f"user-maker-{tag}"]), ("reader", ["read-only"])):
            email = f"{who}-{tag}@use-cases.test"
            assert _create(admin, email, roles).status_code == 201
            tokens[who] = login(app_url, email, PASSWORD)
    yield Callers(tokens, tag)


def api_answer(app_url: str, token: str, email: str, roles: list[str]) -> str:
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        r = _create(client, email, roles)
    assert r.status_code in (201, 403), r.text
    return "allowed" if r.status_code == 201 else str(r.json()["error"]["code"])


async def console_answer(token: str, email: str, roles: list[str]) -> str:
    principal = await principal_for_token(token)
    assert principal is not None
    try:
        await user_admin.create_user_as(principal, UserCreate(email=email, name="x", password=PASSWORD, roles=roles))
    except DomainError as exc:
        return exc.code
    return "allowed"


EXPECTED = {
    ("admin", "admin"): "allowed", ("admin", "read-only"): "allowed",
    ("maker", "admin"): "forbidden", ("maker", "read-only"): "allowed",
    ("reader", "admin"): "forbidden", ("reader", "read-only"): "forbidden",
}


@pytest.mark.parametrize(("who", "role"), sorted(EXPECTED))
async def test_user_creation_agrees(app_url: str, callers: Callers, who: str, role: str) -> None:
    token = callers.tokens[who]
    api = api_answer(app_url, token, f"api-{who}-{role}-{callers.tag}@use-cases.test", [role])
    console = await console_answer(token, f"console-{who}-{role}-{callers.tag}@use-cases.test", [role])
    assert (api, console) == (EXPECTED[(who, role)],) * 2


async def test_a_refused_role_undoes_the_whole_edit(callers: Callers) -> None:
    """The maker may rename a user but not give them `admin`: the edit fails and the name stays."""
    maker = await principal_for_token(callers.tokens["maker"])
    assert maker is not None
    created = await user_admin.create_user_as(maker, UserCreate(
        email=f"target-{callers.tag}@use-cases.test", name="before", password=PASSWORD, roles=["read-only"]))
    with pytest.raises(DomainError) as refused:
        await user_admin.update_user_as(maker, created.id, UserUpdate(name="after"), roles=["read-only", "admin"])
    assert refused.value.code == "forbidden"
    assert await _name_and_roles(created.id) == ("before", ["read-only"])
    await user_admin.update_user_as(maker, created.id, UserUpdate(name="renamed"), roles=["read-only"])
    assert await _name_and_roles(created.id) == ("renamed", ["read-only"])


async def _name_and_roles(user_id: uuid.UUID) -> tuple[str, list[str]]:
    async with use_session(None, readonly=True) as session:
        user = await users_service.get_user(session, user_id)
        return user.name, (await users_service.role_names_by_user(session, [user.id]))[user.id]
