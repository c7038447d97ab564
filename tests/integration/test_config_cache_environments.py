"""The gateway's "does this environment exist" answers (asked only when an API key fails): right for
known and unknown ids, bounded against a flood of random ids, and dropped when the environment goes."""

from __future__ import annotations

import uuid

import httpx

from vmx_app.services.config_cache import ConfigCache
from vmx_app.services.config_events import ConfigChange


async def test_environment_exists_is_right_bounded_and_invalidated(admin_client: httpx.Client) -> None:
    ws = admin_client.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = admin_client.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    cache = ConfigCache(ttl_s=60)
    cache._environments.size = 10  # noqa: SLF001 - the bound under test (VMX_API_KEY_CACHE_SIZE in production)

    assert await cache.environment_exists(ws, env) is True
    assert await cache.environment_exists(ws, uuid.uuid4()) is False
    assert await cache.environment_exists(uuid.uuid4(), env) is False  # another workspace's id
    loads = cache.loads
    assert await cache.environment_exists("not-a-uuid", "prod") is False  # no query for what is no id
    for _ in range(50):
        assert await cache.environment_exists(ws, uuid.uuid4()) is False
    assert len(cache._environments) <= 10  # noqa: SLF001
    assert cache.loads == loads + 51  # one load per distinct unknown id, none for the known one

    assert await cache.environment_exists(ws, env) is True
    held = cache.loads
    assert await cache.environment_exists(ws, env) is True and cache.loads == held  # cached
    cache.invalidate(ConfigChange("environment", env, env))
    assert admin_client.delete(f"/v1/environment/{ws}/{env}").status_code == 204
    assert await cache.environment_exists(ws, env) is False
