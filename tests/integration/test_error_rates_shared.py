"""errorRate counters shared through Redis: failures one process records move the rate another process
routes on, after a sync; nothing is lost while Redis is unreachable. Against the real Redis of this
machine, under a key prefix of this test's own."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.support.profile import REDIS_URL
from vmx_app.services.error_rates_shared import SharedErrorRates

KEY = ("res-1", "conn-1", "gpt-4o")


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.ping()  # no Redis is a failure, never a skip
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"vmx-test-{secrets.token_hex(4)}:"


async def test_one_process_sees_the_others_failures_after_a_sync(redis: Redis, prefix: str) -> None:
    pod_a, pod_b = SharedErrorRates(redis, prefix), SharedErrorRates(redis, prefix)
    now = time.time()
    for status in (500, 500, 429, 200):
        pod_a.record(KEY, status, now)
    assert pod_a.error_rate(KEY, 10, "any", now) == 75.0  # its own pending counts, before any sync
    assert pod_b.error_rate(KEY, 10, "any", now) == 0.0  # asks: from now on B pulls this key
    await pod_a.sync(now)
    await pod_b.sync(now)
    assert pod_b.error_rate(KEY, 10, "any", now) == 75.0
    assert pod_b.error_rate(KEY, 10, 500, now) == 50.0 and pod_b.error_rate(KEY, 10, 429, now) == 25.0
    pod_b.record(KEY, 200, now)  # B's own, not yet pushed, counts too
    assert pod_b.stats(KEY, 10, "any", now).total_requests == 5
    await pod_a.sync(now)  # A pulls nothing new it asked for, and counts nothing twice
    assert pod_a.stats(KEY, 10, "any", now).total_requests == 4
    await pod_b.sync(now)
    await pod_a.sync(now)
    assert pod_a.stats(KEY, 10, "any", now).total_requests == 5
    ttls = [await redis.ttl(k) async for k in redis.scan_iter(f"{prefix}errrate:*")]
    assert ttls and all(0 < t <= 180 * 60 + 120 for t in ttls)  # buckets expire after the retention


async def test_windows_and_minutes(redis: Redis, prefix: str) -> None:
    pod_a, pod_b = SharedErrorRates(redis, prefix), SharedErrorRates(redis, prefix)
    now = time.time()
    pod_a.record(KEY, 500, now - 30 * 60)  # 30 minutes ago
    pod_a.record(KEY, 200, now)
    await pod_a.sync(now)
    assert pod_b.error_rate(KEY, 60, "any", now) == 0.0
    await pod_b.sync(now)
    assert pod_b.error_rate(KEY, 10, "any", now) == 0.0  # the old failure is outside 10 minutes
    assert pod_b.error_rate(KEY, 60, "any", now) == 50.0


async def test_counts_survive_a_redis_outage(redis: Redis, prefix: str) -> None:
    down = Redis.from_url("redis://127.0.0.1:1/0")  # nothing listens there
    pod = SharedErrorRates(down, prefix)
    now = time.time()
    pod.record(KEY, 500, now)
    with pytest.raises(RedisError):
        await pod.sync(now)
    assert pod.error_rate(KEY, 10, "any", now) == 100.0  # still counted locally
    pod._redis = redis  # Redis is back: the kept counts are pushed
    await pod.sync(now)
    other = SharedErrorRates(redis, prefix)
    other.error_rate(KEY, 10, "any", now)
    await other.sync(now)
    assert other.stats(KEY, 10, "any", now).total_failed == 1
    await down.aclose()
