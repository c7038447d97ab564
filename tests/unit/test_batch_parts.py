"""Pure parts of batch completions: the per-connection headroom (AIMD, pauses, ceilings, closing), the
provider's rate-limit headers read as batch headroom, callback signatures and address checks, and
up-front validation of a submission."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from vmx_app.errors import Forbidden, Invalid
from vmx_app.gateway.batch_headroom import BatchHeadroom, HeadroomClosed
from vmx_app.gateway.capacity.provider_headroom import provider_pause, reset_seconds
from vmx_app.gateway.engine import GatewayResponse
from vmx_app.gateway.errors import GateHold
from vmx_app.services.batch_callbacks import _forbidden_address, sign
from vmx_app.services.batch_spec import ResourceIndex, parse_batch
from vmx_app.services.batch_worker import gate_throttled

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


async def test_a_bounded_wait_for_room_gives_up_without_taking_a_slot() -> None:
    """The worker waits for room a second at a time, looking in between whether the batch was cancelled:
    giving up must leave the slots as they were."""
    room = BatchHeadroom(1)
    assert await room.acquire("c", within_s=0.05) is True
    assert await room.acquire("c", within_s=0.05) is False  # full: gave up after the bound
    room.release("c", "ok")
    assert await room.acquire("c", within_s=0.05) is True  # the give-up took nothing
    waiter = asyncio.create_task(room.acquire("c", within_s=5.0))
    await asyncio.sleep(0.01)
    room.release("c", "ok")
    assert await asyncio.wait_for(waiter, 1) is True  # room within the bound: taken at once


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
        ({"items": [ITEM, {**ITEM, "request": {"messages": [{"role": "user", "content": "w" * 400}]}}],
          "capacity": [{"period": "minute", "tokens": 50}]}, "items[1].request"),  # bigger than the cap
    ]
    for body, field in cases:
        with pytest.raises(Invalid) as exc:
            parse_batch(body, RES, max_items=10)
        assert exc.value.field == field, (body, exc.value.message)
    with pytest.raises(Forbidden):
        parse_batch({"items": [ITEM]}, RES, max_items=10, allowed_resources=["other"])


def test_provider_headers_pause_batch_work_past_its_share() -> None:
    now = 1_000.0
    assert reset_seconds("6m0s", now) == 360 and reset_seconds("250ms", now) == 0.25
    assert reset_seconds("1h2m3s", now) == 3723 and reset_seconds("1.5s", now) == 1.5
    assert reset_seconds("1970-01-01T00:16:50Z", now) == 10.0  # Anthropic: the instant of the reset
    assert reset_seconds("soon", now) is None
    openai = {"x-ratelimit-limit-requests": "100", "x-ratelimit-remaining-requests": "60",
              "x-ratelimit-reset-requests": "12s", "x-ratelimit-limit-tokens": "1000",
              "x-ratelimit-remaining-tokens": "900", "x-ratelimit-reset-tokens": "3s"}
    assert provider_pause(openai, 0.5, now) is None  # 40 % used: within the batch's half
    assert provider_pause({**openai, "x-ratelimit-remaining-requests": "49"}, 0.5, now) == 12.0
    assert provider_pause({**openai, "x-ratelimit-remaining-tokens": "100"}, 0.5, now) == 3.0
    assert provider_pause({**openai, "x-ratelimit-remaining-requests": "60"}, 0.3, now) == 12.0
    anthropic = {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "10",
                 "anthropic-ratelimit-requests-reset": "1970-01-01T00:17:00Z"}
    assert provider_pause(anthropic, 0.5, now) == 20.0
    no_reset = {"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "0"}
    assert provider_pause(no_reset, 0.5, now) == 1.0
    assert provider_pause({}, 0.5, now) is None and provider_pause(None, 0.5, now) is None


async def test_headroom_pause_holds_new_items_and_close_releases_waiters() -> None:
    clock = Clock()
    room = BatchHeadroom(4, clock=clock, max_backoff_s=30)
    room.pause("c", 100)
    assert room.paused_for("c") == 30  # capped like any backoff
    waiter = asyncio.create_task(room.acquire("c"))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    room.close()  # the worker stops: waiting items go back to the queue
    with pytest.raises(HeadroomClosed):
        await asyncio.wait_for(waiter, 1)
    with pytest.raises(HeadroomClosed):
        await room.acquire("other")


def test_a_gate_hold_is_told_apart_from_the_providers_429_and_a_budgets() -> None:
    def answer(hold: GateHold | None) -> GatewayResponse:
        # The text is the gate's: the worker reads the hold, so text alone never makes an item wait.
        return GatewayResponse(429, {}, orjson.dumps({"error": {"code": "resource_exhausted",
                                                                "message": "capacity exhausted: batch 'batch x'"}}),
                               hold=hold)

    assert gate_throttled(answer(GateHold("connection"))) == "shared"
    assert gate_throttled(answer(GateHold("api_key"))) == "shared"
    assert gate_throttled(answer(GateHold("pool"))) == "shared"
    assert gate_throttled(answer(GateHold("batch"))) == "batch"
    assert gate_throttled(answer(GateHold("batch", never_fits=True))) is None  # no wait helps: the item fails
    assert gate_throttled(answer(None)) is None  # the provider's 429, or a budget (spend: an attempt)
