"""Two app processes on one Redis: a change made through process A reaches process B's config cache
within a second, through pub/sub (B's TTL is set far longer, so expiry cannot explain it)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import login
from tests.support import profile
from tests.support.servers import free_port, gateway_command, running
from vmx_app.db import session_scope
from vmx_app.models import AIResource


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    env = dict(os.environ)
    env["VMX_CONFIG_CACHE_TTL_SECONDS"] = "600"
    if "REDIS_URL" not in env:  # embedded run: these two processes share a Redis of their own
        env["REDIS_URL"] = profile.REDIS_URL
        env["REDIS_KEY_PREFIX"] = f"vmx-test-pair-{uuid.uuid4().hex[:8]}:"
    logs = tmp_path_factory.mktemp("pair")
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    with running(gateway_command(int(urls[0].rsplit(":", 1)[1])), ready_url=f"{urls[0]}/readyz", env=env,
                 log=Path(logs / "a.log")), \
            running(gateway_command(int(urls[1].rsplit(":", 1)[1])), ready_url=f"{urls[1]}/readyz", env=env,
                    log=Path(logs / "b.log")):
        token = login(urls[0], profile.ADMIN_EMAIL, profile.ADMIN_PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=urls[0], headers=headers, timeout=30) as a, \
                httpx.Client(base_url=urls[1], headers=headers, timeout=30) as b:
            yield a, b


def _cached(client: httpx.Client, ws: str, env: str, name: str) -> dict[str, Any]:
    response = client.get(f"/v1/internal/config-cache/resource/{ws}/{env}/{name}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _wait_for(predicate: Any, timeout_s: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError(f"not seen within {timeout_s}s")


async def test_a_change_through_a_reaches_bs_cache_within_a_second(pair: tuple[httpx.Client, httpx.Client]) -> None:
    a, b = pair
    ws = a.post("/v1/workspace", json={"name": f"ws-{uuid.uuid4().hex[:8]}"}).json()["id"]
    env = a.post(f"/v1/environment/{ws}", json={"name": "prod"}).json()["id"]
    a.post(f"/v1/ai-connection/{ws}/{env}", json={"name": "oa", "provider": "openai", "config": {"apiKey": "k"}})
    res = a.post(f"/v1/ai-resource/{ws}/{env}", json={
        "name": "chat", "model": {"provider": "openai", "model": "gpt-4o", "connectionName": "oa"}}).json()
    _wait_for(lambda: _cached(b, ws, env, "chat")["listening"], 5)

    first = _cached(b, ws, env, "chat")
    assert first["resource"]["model"]["model"] == "gpt-4o"
    assert _cached(b, ws, env, "chat")["cachedBefore"] is True

    # Control: a change that publishes nothing stays invisible to B (its cache really is a cache).
    async with session_scope() as session:
        row = await session.get(AIResource, uuid.UUID(res["id"]))
        assert row is not None
        await session.exec(update(AIResource).where(AIResource.id == row.id)  # type: ignore[call-overload]
                           .values(model={**row.model, "model": "o3"}))
    time.sleep(1.0)
    assert _cached(b, ws, env, "chat")["resource"]["model"]["model"] == "gpt-4o"

    # The same kind of change through A's API is published, and B drops its copy within a second.
    updated = a.put(f"/v1/ai-resource/{ws}/{env}/{res['id']}", json={
        "model": {"provider": "openai", "model": "gpt-4o-mini", "connectionName": "oa"}})
    assert updated.status_code == 200, updated.text
    elapsed = _wait_for(lambda: _cached(b, ws, env, "chat")["resource"]["model"]["model"] == "gpt-4o-mini", 1.0)
    assert elapsed < 1.0

    # Deletion and re-creation travel the same way.
    assert a.delete(f"/v1/ai-resource/{ws}/{env}/{res['id']}").status_code == 204
    _wait_for(lambda: _cached(b, ws, env, "chat")["resource"] is None, 1.0)


def test_diagnostics_route_is_for_admins_only(pair: tuple[httpx.Client, httpx.Client]) -> None:
    a, _ = pair
    email = f"power-{uuid.uuid4().hex[:8]}@vmx.test"
    a.post("/v1/user", json={"email": email, "password": "Power-password-1", "roles": ["power-user"]})
    token = login(str(a.base_url), email, "Power-password-1")
    ws = httpx.post(f"{a.base_url}/v1/workspace", json={"name": "mine"},
                    headers={"Authorization": f"Bearer {token}"}).json()["id"]
    env = httpx.post(f"{a.base_url}/v1/environment/{ws}", json={"name": "prod"},
                     headers={"Authorization": f"Bearer {token}"}).json()["id"]
    denied = httpx.get(f"{a.base_url}/v1/internal/config-cache/resource/{ws}/{env}/x",
                       headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
