"""The Redis counters on a real Redis (one started for this module): all-or-nothing takes under
concurrency on both transports (the lean channel and redis-py's pipeline), scripts reloaded after
SCRIPT FLUSH, corrections that never recreate an ended window, and a stopped server reported as
CountersUnavailable."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.integration.test_capacity_processes import redis_server
from tests.support.servers import free_port, stop
from vmx_app.gateway.capacity.counters import Adjustment, Counter, CountersUnavailable
from vmx_app.gateway.capacity.redis_counters import RedisCounters


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    with redis_server(port):
        yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(params=["channel", "redis-py"])
async def counters(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[RedisCounters]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield RedisCounters(client, url=redis_url if request.param == "channel" else None)
    await client.aclose()


def limits(n: int) -> list[Counter]:
    end = time.time() + 60
    return [Counter("t:{e}:conn", ("requests",), n, 1, end), Counter("t:{e}:conn", ("tokens",), 10**9, 7, end),
            Counter("t:{e}:budget", ("reserved", "spent"), 10**12, 1000, end)]


async def test_exactly_n_of_many_concurrent_takes(counters: RedisCounters) -> None:
    results = await asyncio.gather(*(counters.take(limits(7)) for _ in range(60)))
    assert sum(r.ok for r in results) == 7
    assert {r.denied for r in results if not r.ok} == {0}
    assert await counters.read([("t:{e}:conn", "requests"), ("t:{e}:conn", "tokens"),
                                ("t:{e}:budget", "reserved")]) == [7, 49, 7000]


async def test_hashes_expire_with_their_window(counters: RedisCounters, redis_url: str) -> None:
    assert (await counters.take(limits(5))).ok
    client = Redis.from_url(redis_url)
    ttls = [await client.ttl(key) for key in ("t:{e}:conn", "t:{e}:budget")]
    await client.aclose()
    assert all(55 <= ttl <= 61 for ttl in ttls), ttls


async def test_scripts_come_back_after_a_flush_and_corrections_skip_ended_windows(counters: RedisCounters,
                                                                                  redis_url: str) -> None:
    assert (await counters.take(limits(5))).ok
    client = Redis.from_url(redis_url)
    await client.script_flush()
    await client.aclose()
    assert (await counters.take(limits(5))).values[0] == 2
    await counters.adjust([Adjustment("t:{e}:conn", "tokens", -14, None),
                           Adjustment("t:{e}:gone", "tokens", -5, None)])
    assert await counters.read([("t:{e}:conn", "tokens"), ("t:{e}:gone", "tokens")]) == [0, 0]


async def test_a_stopped_server_is_unavailable() -> None:
    port = free_port()
    with redis_server(port) as proc:
        client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
        for fast in (True, False):
            store = RedisCounters(client, url=f"redis://127.0.0.1:{port}/0" if fast else None, timeout_s=0.5)
            assert (await store.take(limits(3))).ok
        stop(proc)
        for fast in (True, False):
            store = RedisCounters(client, url=f"redis://127.0.0.1:{port}/0" if fast else None, timeout_s=0.5)
            with pytest.raises(CountersUnavailable):
                await store.take(limits(3))
        await client.aclose()


async def test_checks_waiting_behind_an_unanswered_call_fail_with_it() -> None:
    """One round of calls is in flight at a time: a hung server must not make the ones queued behind it
    wait out a second timeout before CAPACITY_ON_REDIS_ERROR decides."""
    port = free_port()
    with redis_server(port) as proc:
        url = f"redis://127.0.0.1:{port}/0"
        client = Redis.from_url(url)
        store = RedisCounters(client, url=url, timeout_s=0.5)
        assert (await store.take(limits(3))).ok
        proc.send_signal(signal.SIGSTOP)
        try:
            first = asyncio.ensure_future(store.take(limits(3)))
            await asyncio.sleep(0.1)  # `first` is in flight: `second` queues behind it
            started = time.monotonic()
            second = asyncio.ensure_future(store.take(limits(3)))
            results = await asyncio.gather(first, second, return_exceptions=True)
            waited = time.monotonic() - started
        finally:
            proc.send_signal(signal.SIGCONT)
        assert all(isinstance(r, CountersUnavailable) for r in results), results
        assert waited < 0.7  # `first`'s timeout ends at ~0.4 s; a timeout of its own would end `second` at ~0.9 s
        assert (await store.take(limits(3))).ok  # a new connection once the server answers again
        await client.aclose()
