"""Pure parts of batch completions: the per-connection headroom (AIMD, pauses, ceilings), callback
signatures and address checks, and up-front validation of a submission."""

from __future__ import annotations

import asyncio

import pytest

from vmx_app.errors import Forbidden, Invalid
from vmx_app.gateway.batch_headroom import BatchHeadroom
from vmx_app.services.batch_callbacks import _forbidden_address, sign
from vmx_app.services.batch_spec import ResourceIndex, parse_batch

RES = ResourceIndex({"r1": "chat"}, {"chat": "r1"})
ITEM = {"resourceName": "chat", "request": {"messages": [{"role": "user", "content": "hi"}]}}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_headroom_caps_concurrency_per_connection() -> None:
    room = BatchHeadroom(2)
    await room.acquire("c")
    await room.acquire("c")
    third = asyncio.create_task(room.acquire("c"))
    await asyncio.sleep(0.01)
    assert not third.done()  # the third waits for a slot
    await room.acquire("other")  # another connection is not affected
    room.release("c", "ok")
    await asyncio.wait_for(third, 1)


async def test_headroom_halves_and_pauses_on_429_then_grows_back() -> None:
    clock = Clock()
    room = BatchHeadroom(8, clock=clock)
    await room.acquire("c")
    room.release("c", "throttled", retry_after_s=2.0)
    assert room.limit("c") == 4 and room.paused_for("c") == 2.0
    await room.acquire("c2")
    room.release("c2", "throttled")  # no Retry-After: exponential backoff from 0.5 s
    assert room.paused_for("c2") == 0.5
    clock.now += 1
    await room.acquire("c2")
    room.release("c2", "throttled")
    assert room.paused_for("c2") == 1.0 and room.limit("c2") == 2
    clock.now += 5
    for _ in range(10):
        await room.acquire("c")
        room.release("c", "ok")
    assert room.limit("c") == 8  # back to the configured share, never above it
    room.set_ceiling("c", 3)  # the capacity counters' seam
    assert room.limit("c") == 3


def test_callback_signature_and_private_addresses() -> None:
    assert sign("k", "1", b"{}") == "sha256=" + __import__("hmac").new(
        b"k", b"1.{}", "sha256").hexdigest()
    for address in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "169.254.169.254", "::1", "::ffff:127.0.0.1",
                    "fe80::1", "0.0.0.0"):
        assert _forbidden_address(address), address
    for address in ("8.8.8.8", "2606:4700:4700::1111"):
        assert not _forbidden_address(address), address


def test_submission_validation_names_the_field() -> None:
    spec = parse_batch({"type": "sync", "items": [ITEM, {**ITEM, "endpoint": "responses",
                                                          "request": {"input": "hi"}}]}, RES, max_items=10)
    assert [i.request["model"] for i in spec.items] == ["chat", "chat"]
    limited = parse_batch({"items": [ITEM], "capacity": [{"period": "minute", "requests": 5, "tokens": 900}]},
                          RES, max_items=10)
    assert limited.capacity == [{"period": "minute", "requests": 5, "tokens": 900, "enabled": True}]
    cases = [
        ({"items": []}, "items"),
        ({"items": [ITEM] * 11}, "items"),
        ({"type": "nope", "items": [ITEM]}, "type"),
        ({"items": [ITEM, {**ITEM, "request": {**ITEM["request"], "stream": True}}]}, "items[1].request.stream"),
        ({"items": [{**ITEM, "request": {"messages": [], "temperature": "hot"}}]}, "items[0].request.temperature"),
        ({"items": [ITEM], "callback": {"url": "ftp://x"}}, "callback.url"),
        ({"items": [ITEM], "callback": {"url": "https://x", "events": "some"}}, "callback.events"),
        ({"items": [ITEM], "capacity": [{"period": "minute", "requests": -1}]}, "capacity[0].requests"),
        ({"items": [ITEM], "capacity": [{"period": "minute", "requests": 5, "dimension": "source-ip"}]},
         "capacity[0].dimension"),
    ]
    for body, field in cases:
        with pytest.raises(Invalid) as exc:
            parse_batch(body, RES, max_items=10)
        assert exc.value.field == field, (body, exc.value.message)
    with pytest.raises(Forbidden):
        parse_batch({"items": [ITEM]}, RES, max_items=10, allowed_resources=["other"])
