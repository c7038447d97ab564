"""Limits and budgets across real gateway processes on one Redis, and through a Redis outage.

Each test starts its own `redis-server` on a free port (the shared one on 6379 is never stopped) and
gateway processes pointed at it, on this run's database. Exactly N of M concurrent requests pass in
total, whichever process serves them; with Redis stopped requests keep flowing (allow) or are
refused (deny), and once Redis is back the limit holds again."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support.servers import free_port, gateway_command, running, stop
from vmx_app.gateway.capacity.enforcing import STORE_RETRY_S


@contextmanager
def redis_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        if time.monotonic() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    try:
        yield proc
    finally:
        stop(proc)


@contextmanager
def gateways(tmp: Path, redis_port: int, count: int, **extra_env: str) -> Iterator[list[str]]:
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", **extra_env}
    urls = []
    with ExitStack() as stack:
        for i in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            stack.enter_context(running(gateway_command(port), ready_url=f"{url}/readyz", env=env,
                                        log=tmp / f"gateway-{i}-{port}.log"))
            urls.append(url)
        yield urls


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Env:
    return make_env(app_url, admin_client, fake_upstream, "capacity-procs")


async def burst(urls: list[str], e: Env, m: int, body: dict[str, Any]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30, headers=e.headers()) as client:
        calls = [client.post(f"{urls[i % len(urls)]}/v1/completion/{e.ws}/{e.env}/chat/completions", json=body)
                 for i in range(m)]
        return list(await asyncio.gather(*calls))


def chat(resource: str, **extra: Any) -> dict[str, Any]:
    return {"model": resource, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_two_processes_share_one_limit_and_one_budget(env: Env, fake_upstream: FakeUpstream,
                                                      tmp_path: Path) -> None:
    n, m = 6, 40
    fake_upstream.set_default("procs-model", Behaviour(delay_s=0.2))
    conn = env.connection("procs-conn", "openai", {"apiKey": "k", "baseUrl": fake_upstream.openai_url},
                          capacity=[{"period": "minute", "requests": n}])
    env.resource({"provider": "openai", "model": "procs-model", "connectionId": conn}, name="procs-rpm")
    # gpt-4o has a catalog price: a budget that fits exactly 3 worst-case reservations of max_tokens=1000.
    budget = env.resource(env.slot("openai", "gpt-4o"), name="procs-budget",
                          budgets=[{"period": "day", "amountUsd": 3.5 * 1000 * 10 / 1e6}])
    fake_upstream.set_default("gpt-4o", Behaviour(delay_s=0.2))
    with redis_server(free_port()) as redis, gateways(tmp_path, int(redis.args[2]), 2) as urls:
        statuses = [r.status_code for r in asyncio.run(burst(urls, env, m, chat("procs-rpm")))]
        assert statuses.count(200) == n and statuses.count(429) == m - n
        spent = [r.status_code for r in asyncio.run(burst(urls, env, m, chat("procs-budget", max_tokens=1000)))]
        assert spent.count(200) == 3 and spent.count(429) == m - 3
        status = httpx.get(f"{urls[0]}/v1/budget-status/{env.ws}/{env.env}",
                           headers=env.admin.headers).json()["data"]
    [row] = [b for b in status if b["entityId"] == budget["id"]]
    assert row["level"] == "resource" and row["entityName"] == "procs-budget" and row["period"] == "day"
    assert row["reservedUsd"] == 0 and 0 < row["spentUsd"] < 0.001 and row["resetsAt"].endswith("Z")
    fake_upstream.set_default("procs-model", None)
    fake_upstream.set_default("gpt-4o", None)


def test_redis_outage_follows_the_setting_and_enforcement_resumes(env: Env, fake_upstream: FakeUpstream,
                                                                  tmp_path: Path) -> None:
    conn = env.connection("outage-conn", "openai", {"apiKey": "k", "baseUrl": fake_upstream.openai_url},
                          capacity=[{"period": "minute", "requests": 2}])
    env.resource({"provider": "openai", "model": "gpt-4o", "connectionId": conn}, name="outage")
    redis_port = free_port()
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(redis_port))
        [allow] = stack.enter_context(gateways(tmp_path, redis_port, 1))
        [deny] = stack.enter_context(gateways(tmp_path, redis_port, 1, CAPACITY_ON_REDIS_ERROR="deny"))

        def post(url: str) -> int:
            return httpx.post(f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions", json=chat("outage"),
                              headers=env.headers(), timeout=30).status_code

        assert [post(allow), post(deny), post(allow)] == [200, 200, 429]
        stop(redis)  # Redis goes away mid-test
        assert [post(allow) for _ in range(4)] == [200] * 4
        assert [post(deny) for _ in range(2)] == [503] * 2
        stack.enter_context(redis_server(redis_port))  # back, empty
        time.sleep(STORE_RETRY_S + 0.5)  # past the pause after the last failure: the gate tries Redis again
        assert [post(allow) for _ in range(3)] == [200, 200, 429]  # the limit of 2 holds again, by itself
        assert post(deny) == 429
