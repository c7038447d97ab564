"""The config cache in this process: hits never touch the database, misses load once, writes invalidate
at once, negative results and the TTL expire, a load racing an invalidation does not store stale data."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from vmx_app.db import session_scope
from vmx_app.models import AIConnection, AIResource
from vmx_app.models.ai_connection import AIConnectionUpdate
from vmx_app.models.ai_resource import AIResourceCreate, AIResourceUpdate
from vmx_app.services import ai_connections, ai_resources, config_cache
from vmx_app.services.config_cache import ConfigCache
from vmx_app.services.config_events import ConfigChange, publish_change


@pytest.fixture
def env(admin_client: httpx.Client) -> dict[str, Any]:
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    conn = admin_client.post(f"/v1/ai-connection/{ws}/{env}", json={
        "name": "openai-prod", "provider": "openai", "config": {"apiKey": "sk-cache-secret"}}).json()
    res = admin_client.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "openai-prod"}}).json()
    return {"ws": ws, "env": env, "conn": conn, "res": res}


@pytest.fixture
def cache() -> ConfigCache:
    """The process-wide cache (the one `publish_change` invalidates), emptied for the test."""
    cache = config_cache.get_cache()
    cache.clear()
    return cache


async def _raw_model(resource_id: str, model: str) -> None:
    """Change a row behind the cache's back (no event), as a lost message would leave it."""
    async with session_scope() as session:
        row = await session.get(AIResource, uuid.UUID(resource_id))
        assert row is not None
        await session.exec(update(AIResource).where(AIResource.id == row.id)  # type: ignore[call-overload]
                           .values(model={**row.model, "model": model}))


async def test_hits_do_not_touch_the_database(env: dict[str, Any], cache: ConfigCache) -> None:
    snap = await config_cache.get_resource(env["env"], "chat")
    assert snap is not None and snap.id == env["res"]["id"] and snap.name == "chat"
    assert snap.model.connection_id == env["conn"]["id"] and snap.model.model == "gpt-4o"
    loads = cache.loads
    for _ in range(50):
        assert await config_cache.get_resource(env["env"], "chat") is snap
    assert cache.loads == loads
    await _raw_model(env["res"]["id"], "gpt-4o-mini")
    assert (await config_cache.get_resource(env["env"], "chat")).model.model == "gpt-4o"  # type: ignore[union-attr]


async def test_concurrent_misses_share_one_load(env: dict[str, Any], cache: ConfigCache) -> None:
    before = cache.loads
    snaps = await asyncio.gather(*(config_cache.get_resource(env["env"], "chat") for _ in range(20)))
    assert cache.loads == before + 1
    assert all(s is snaps[0] for s in snaps)


async def test_writes_invalidate_at_once(env: dict[str, Any], cache: ConfigCache) -> None:
    assert (await config_cache.get_resource(env["env"], "chat")).model.model == "gpt-4o"  # type: ignore[union-attr]
    async with session_scope() as session:
        row = await session.get(AIResource, uuid.UUID(env["res"]["id"]))
        await ai_resources.update_resource(session=session, row=row, user_id=None,  # type: ignore[arg-type]
                                           data=AIResourceUpdate.model_validate({"model": {
                                               "provider": "openai", "model": "gpt-4o-mini",
                                               "connectionName": "openai-prod"}}))
    assert (await config_cache.get_resource(env["env"], "chat")).model.model == "gpt-4o-mini"  # type: ignore[union-attr]


async def test_misses_are_cached_briefly_and_a_create_ends_them(env: dict[str, Any], cache: ConfigCache) -> None:
    assert await config_cache.get_resource(env["env"], "later") is None
    loads = cache.loads
    assert await config_cache.get_resource(env["env"], "later") is None
    assert cache.loads == loads  # the miss was cached
    async with session_scope() as session:
        await ai_resources.create_resource(
            session=session, workspace_id=uuid.UUID(env["ws"]), environment_id=uuid.UUID(env["env"]), user_id=None,
            data=AIResourceCreate.model_validate({"name": "later", "model": {
                "provider": "openai", "model": "gpt-4o", "connectionId": env["conn"]["id"]}}))
    assert await config_cache.get_resource(env["env"], "later") is not None


async def test_ttl_bounds_staleness(env: dict[str, Any]) -> None:
    cache = ConfigCache(ttl_s=0.3)
    assert (await cache.get_resource(env["env"], "chat")).model.model == "gpt-4o"  # type: ignore[union-attr]
    await _raw_model(env["res"]["id"], "o3")
    assert (await cache.get_resource(env["env"], "chat")).model.model == "gpt-4o"  # type: ignore[union-attr]
    await asyncio.sleep(0.35)
    assert (await cache.get_resource(env["env"], "chat")).model.model == "o3"  # type: ignore[union-attr]


async def test_a_load_racing_an_invalidation_is_not_stored(env: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ConfigCache(ttl_s=60)
    release = asyncio.Event()
    real = config_cache._load_resource

    async def slow(env_id: str, name: str) -> Any:
        value = await real(env_id, name)  # reads the old row...
        await release.wait()  # ...and is still in flight when the write's invalidation lands
        return value

    monkeypatch.setattr(config_cache, "_load_resource", slow)
    pending = asyncio.create_task(cache.get_resource(env["env"], "chat"))
    await asyncio.sleep(0.05)
    cache.invalidate(ConfigChange("resource", env["res"]["id"], env["env"]))
    release.set()
    assert (await pending).model.model == "gpt-4o"  # type: ignore[union-attr]
    monkeypatch.setattr(config_cache, "_load_resource", real)
    await _raw_model(env["res"]["id"], "gpt-4.1")
    assert (await cache.get_resource(env["env"], "chat")).model.model == "gpt-4.1"  # type: ignore[union-attr]


async def test_connections_are_decrypted_and_found_by_id_or_name(env: dict[str, Any], cache: ConfigCache) -> None:
    conn = await config_cache.get_connection(env["conn"]["id"])
    assert conn is not None and conn.config == {"apiKey": "sk-cache-secret"} and conn.provider == "openai"
    assert await config_cache.get_connection_by_name(env["env"], "openai-prod") is conn
    assert await config_cache.get_connection_by_name(env["env"], "nope") is None
    assert await config_cache.get_connection(str(uuid.uuid4())) is None
    assert await config_cache.get_connection("not-a-uuid") is None
    async with session_scope() as session:
        row = await session.get(AIConnection, uuid.UUID(env["conn"]["id"]))
        await ai_connections.update_connection(session=session, row=row, user_id=None,  # type: ignore[arg-type]
                                               data=AIConnectionUpdate.model_validate({
                                                   "name": "renamed", "config": {"apiKey": "sk-rotated"}}))
    assert await config_cache.get_connection_by_name(env["env"], "openai-prod") is None
    renamed = await config_cache.get_connection_by_name(env["env"], "renamed")
    assert renamed is not None and renamed.config == {"apiKey": "sk-rotated"}


async def test_api_keys_by_hash(admin_client: httpx.Client, env: dict[str, Any], cache: ConfigCache) -> None:
    created = admin_client.post(f"/v1/api-key/{env['ws']}/{env['env']}", json={
        "name": "app", "resources": [env["res"]["id"]], "labels": ["team-a"]})
    assert created.status_code == 201, created.text
    key_hash = hashlib.sha256(created.json()["apiKeyValue"].encode()).hexdigest()
    snap = await config_cache.get_api_key_by_hash(key_hash)
    assert snap is not None and snap.id == created.json()["id"] and snap.enabled
    assert snap.resources == [env["res"]["id"]] and snap.labels == ["team-a"]
    assert await config_cache.get_api_key_by_hash(key_hash) is snap
    assert await config_cache.get_api_key_by_hash("0" * 64) is None
    # Disabled by the API (another process): the change event, as Redis would deliver it, drops the copy.
    admin_client.put(f"/v1/api-key/{env['ws']}/{env['env']}/{created.json()['id']}", json={"enabled": False})
    await publish_change("api_key", created.json()["id"])
    refreshed = await config_cache.get_api_key_by_hash(key_hash)
    assert refreshed is not None and refreshed.enabled is False


async def test_an_environment_change_drops_only_that_environment(admin_client: httpx.Client, env: dict[str, Any],
                                                                 cache: ConfigCache) -> None:
    ws = env["ws"]
    other = admin_client.post(f"/v1/environment/{ws}", json={"name": "dev"}).json()["id"]
    admin_client.post(f"/v1/ai-connection/{ws}/{other}", json={
        "name": "oa", "provider": "openai", "config": {"apiKey": "k"}})
    admin_client.post(f"/v1/ai-resource/{ws}/{other}", json={
        "name": "chat", "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "oa"}})
    for env_id in (env["env"], other):
        assert await config_cache.get_resource(env_id, "chat") is not None
    assert await config_cache.get_connection(env["conn"]["id"]) is not None
    await publish_change("environment", env["env"], env["env"])
    assert cache.peek_resource(env["env"], "chat") == (None, None)
    assert cache.peek_resource(other, "chat")[0] is not None
    loads = cache.loads
    await config_cache.get_connection(env["conn"]["id"])
    assert cache.loads == loads + 1  # reloaded: it belonged to the changed environment


def test_listener_applies_other_processes_messages_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import orjson

    from vmx_app.services import config_events

    seen: list[ConfigChange] = []
    monkeypatch.setattr(config_events, "_hooks", [seen.append])
    config_events._handle(orjson.dumps({"kind": "resource", "id": "r", "envId": "e", "origin": config_events.ORIGIN}))
    config_events._handle(b"not json")
    config_events._handle(orjson.dumps({"kind": "bogus", "origin": "other"}))
    config_events._handle(orjson.dumps(["a list"]))
    assert seen == []
    config_events._handle(orjson.dumps({"kind": "api-key", "id": "k", "envId": None, "origin": "other"}))
    assert seen == [ConfigChange("api-key", "k", None)]
