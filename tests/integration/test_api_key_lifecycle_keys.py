"""A key's value changes hands: regenerate (new value once, old one refused at once, `api-key:update`
required), and the playground's session keys, which end with the console session (logout, password
change), checked with the official SDK against the running gateway."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import openai
import pytest
from sqlmodel import select

from tests.conftest import login
from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, check, make_env
from vmx_app.auth.tokens import hash_session_token
from vmx_app.db import session_scope
from vmx_app.models import AuthSession, Environment
from vmx_app.services import playground

PASSWORD = "Lifecycle-pass-123"
MESSAGES: Any = [{"role": "user", "content": "x"}]


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    e = make_env(app_url, admin_client, fake_upstream, "key-lifecycle")
    e.resource(e.slot("openai"), name="chat")
    return e


def _call(env: Env, key: str) -> str | None:
    client = openai.OpenAI(base_url=env.base_url, api_key=key, max_retries=0)
    return client.chat.completions.create(model="chat", messages=MESSAGES).choices[0].message.content


def _person(app_url: str, admin: httpx.Client, role: str) -> tuple[str, httpx.Client, str]:
    email = f"k-{uuid.uuid4().hex[:10]}@lifecycle.test"
    created = check(admin.post("/v1/user", json={"email": email, "name": "K", "password": PASSWORD,
                                                 "roles": [role]}))
    token = login(app_url, email, PASSWORD)
    return created["id"], httpx.Client(base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {token}"}), \
        token


def test_regenerate_replaces_the_value_and_refuses_the_old_one(env: Env, app_url: str) -> None:
    old_value, key_id = env.api_key(labels=["team-a"])
    assert _call(env, old_value) == "Hello from gpt-4o"
    before = check(env.admin.get(f"/v1/api-key/{env.ws}/{env.env}/{key_id}"), 200)
    renewed = check(env.admin.post(f"/v1/api-key/{env.ws}/{env.env}/{key_id}/regenerate"), 200)
    assert renewed["id"] == key_id and renewed["name"] == before["name"] and renewed["labels"] == ["team-a"]
    assert renewed["apiKeyValue"].startswith("vmx-") and renewed["apiKeyValue"] != old_value
    assert renewed["maskedKey"] != before["maskedKey"]
    with pytest.raises(openai.AuthenticationError):
        _call(env, old_value)
    assert _call(env, renewed["apiKeyValue"]) == "Hello from gpt-4o"
    # Shown once: reading the key again gives only the masked form.
    assert "apiKeyValue" not in check(env.admin.get(f"/v1/api-key/{env.ws}/{env.env}/{key_id}"), 200)


async def test_regenerate_needs_api_key_update(env: Env, app_url: str, admin_client: httpx.Client) -> None:
    user_id, reader, _ = _person(app_url, admin_client, "read-only")
    check(admin_client.post(f"/v1/workspace/{env.ws}/assign", json={"userIds": [user_id], "role": "MEMBER"}), 204)
    _, key_id = env.api_key()
    r = reader.post(f"/v1/api-key/{env.ws}/{env.env}/{key_id}/regenerate")
    assert r.status_code == 403 and r.json()["error"]["details"]["action"] == "api-key:update"
    r = reader.post(f"/v1/api-key/{env.ws}/{env.env}/{uuid.uuid4()}/regenerate")
    assert r.status_code == 404


async def _session_id(token: str) -> uuid.UUID:
    async with session_scope() as session:
        row = (await session.exec(select(AuthSession).where(
            AuthSession.token_hash == hash_session_token(token)))).one()
    return row.id


async def _issue(env: Env, token: str, user_id: str) -> str:
    async with session_scope() as session:
        environment = await session.get(Environment, uuid.UUID(env.env))
    assert environment is not None
    return await playground.issue_session_key(env=environment, session_id=await _session_id(token),
                                              user_id=uuid.UUID(user_id), email="k@lifecycle.test")


def _playground_keys(env: Env) -> list[dict[str, Any]]:
    keys = check(env.admin.get(f"/v1/api-key/{env.ws}/{env.env}"), 200)["data"]
    return [k for k in keys if k["name"].startswith(playground.KEY_PREFIX)]


async def test_session_keys_end_with_their_session(env: Env, app_url: str, admin_client: httpx.Client) -> None:
    user_id, client, token = _person(app_url, admin_client, "power-user")
    check(admin_client.post(f"/v1/workspace/{env.ws}/assign", json={"userIds": [user_id], "role": "MEMBER"}), 204)
    first = await _issue(env, token, user_id)
    second = await _issue(env, token, user_id)  # another tab of the same session
    listed = _playground_keys(env)
    assert len(listed) == 2 and all(k["labels"] == ["playground"] and k["expiresAt"] for k in listed)
    assert _call(env, first) == _call(env, second) == "Hello from gpt-4o"

    # A second session of the same user; changing the password there ends the first session's keys.
    other_token = login(app_url, client.get("/v1/auth/me").json()["email"], PASSWORD)
    kept = await _issue(env, other_token, user_id)
    other = httpx.Client(base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {other_token}"})
    check(other.post("/v1/auth/change-password", json={"currentPassword": PASSWORD,
                                                        "newPassword": PASSWORD + "x"}), 204)
    remaining = _playground_keys(env)
    prefix = f"{playground.KEY_PREFIX}{await _session_id(other_token)}-"
    assert len(remaining) == 1 and remaining[0]["name"].startswith(prefix)
    with pytest.raises(openai.AuthenticationError):
        _call(env, first)
    assert _call(env, kept) == "Hello from gpt-4o"

    check(other.post("/v1/auth/logout"), 204)  # logout ends the remaining session's key
    assert _playground_keys(env) == []
    with pytest.raises(openai.AuthenticationError):
        _call(env, kept)


async def test_deactivating_a_user_ends_their_session_keys(env: Env, app_url: str,
                                                           admin_client: httpx.Client) -> None:
    user_id, _, token = _person(app_url, admin_client, "power-user")
    key = await _issue(env, token, user_id)
    assert _call(env, key) == "Hello from gpt-4o"
    check(admin_client.put(f"/v1/user/{user_id}", json={"state": "INACTIVE"}), 200)
    with pytest.raises(openai.AuthenticationError):
        _call(env, key)
    assert _playground_keys(env) == []
