"""Signed thinking kept by tool-call id: the in-process store's TTL and bound, the Redis store against
the real Redis of this machine (one pod keeps, another restores), and restore_thinking itself."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.support.profile import REDIS_URL
from vmx_app.gateway.conversion import restore_thinking
from vmx_app.gateway.thinking_store import MAX_ENTRY_BYTES, InProcessThinkingStore, RedisThinkingStore
from vmx_app.gateway.types import (
    CanonicalRequest,
    Message,
    Reasoning,
    Role,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

BLOCKS = [{"type": "thinking", "thinking": "Paris is in France.", "signature": "sig-1"}]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.ping()  # no Redis is a failure, never a skip
    yield client
    await client.aclose()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_in_process_store_expires_and_is_bounded() -> None:
    clock = Clock()
    store = InProcessThinkingStore(ttl_s=60, max_entries=3, clock=clock)
    await store.put("env", ["call_1", "call_2"], BLOCKS)
    assert await store.get("env", ["call_1", "call_2", "call_x"]) == [BLOCKS, BLOCKS, None]
    assert await store.get("other-env", ["call_1"]) == [None]  # scoped: another environment never sees them
    clock.now += 61
    assert await store.get("env", ["call_1"]) == [None]
    for i in range(5):
        await store.put("env", [f"c{i}"], BLOCKS)
    assert len(store) <= 3 and await store.get("env", ["c0", "c4"]) == [None, BLOCKS]  # oldest evicted first
    await store.put("env", ["huge"], [{"type": "thinking", "thinking": "x" * MAX_ENTRY_BYTES, "signature": "s"}])
    assert await store.get("env", ["huge"]) == [None]  # too large to keep


async def test_redis_store_shared_between_pods_with_ttl(redis: Redis) -> None:
    prefix = f"vmx-test-{secrets.token_hex(4)}:"
    pod_a, pod_b = RedisThinkingStore(redis, prefix, ttl_s=30), RedisThinkingStore(redis, prefix, ttl_s=30)
    await pod_a.put("env", ["call_1"], BLOCKS)
    assert await pod_b.get("env", ["call_1", "call_2"]) == [BLOCKS, None]
    ttl = await redis.ttl(f"{prefix}thinking:{{env}}:call_1")
    assert 0 < ttl <= 30
    await redis.delete(f"{prefix}thinking:{{env}}:call_1")


async def test_redis_outage_means_not_found_never_a_failure() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    store = RedisThinkingStore(dead, "p:")
    await store.put("env", ["call_1"], BLOCKS)
    assert await store.get("env", ["call_1"]) == [None]
    await dead.aclose()


def _loop(with_thinking: bool) -> CanonicalRequest:
    assistant = [TextPart("Checking."), ToolCallPart("call_1", "get_weather", '{"city": "Paris"}')]
    if with_thinking:
        assistant.insert(0, ThinkingPart("mine", "sig-mine", origin="anthropic"))
    return CanonicalRequest(messages=[
        Message(Role.USER, [TextPart("weather?")]), Message(Role.ASSISTANT, assistant),
        Message(Role.TOOL, [ToolResultPart("call_1", [TextPart("21")])])], reasoning=Reasoning(effort="low"))


async def test_restore_puts_kept_thinking_first_and_leaves_the_shared_request_alone() -> None:
    store = InProcessThinkingStore()
    await store.put("env", ["call_1"], BLOCKS)
    req, notes = _loop(False), []
    restored = await restore_thinking(store, "env", req, notes)
    first = restored.messages[1].content[0]
    assert isinstance(first, ThinkingPart) and first.signature == "sig-1" and notes == []
    assert not isinstance(req.messages[1].content[0], ThinkingPart)  # other legs still see the original
    assert restored.reasoning is not None


async def test_restore_keeps_what_the_client_sent_and_disables_thinking_when_nothing_is_kept() -> None:
    store = InProcessThinkingStore()
    req = _loop(True)
    assert await restore_thinking(store, "env", req, []) is req
    notes: list[str] = []
    restored = await restore_thinking(store, "env", _loop(False), notes)
    assert restored.reasoning is None and len(notes) == 1 and "thinking disabled" in notes[0]
