"""Fallback, retries, deadlines, the circuit breaker and gate denials, through the engine and the
real adapters against the fake upstream."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.fakes.upstream import Behaviour
from tests.unit.test_engine import Harness, chat, sse_events
from vmx_app.gateway.capacity.gate import GateResult, LegContext
from vmx_app.gateway.types import Usage

pytestmark = pytest.mark.usefixtures("close_adapters")  # fixtures: tests/unit/conftest.py


def with_fallback(h: Harness, primary: dict[str, Any], *fallbacks: dict[str, Any]) -> None:
    h.resource("res", primary, useFallback=True, fallbackModels=list(fallbacks))


def fallback_headers(headers: dict[str, str], i: int) -> tuple[str, str, str, str]:
    p = f"x-vmx-event-{i}-"
    return (headers[p + "type"], headers[p + "fallback-failed-model"], headers[p + "fallback-failure-reason"],
            headers[p + "fallback-status-code"])


@pytest.mark.parametrize(("behaviour", "reason", "status"), [
    (Behaviour(status=500), "server_error", "500"),
    (Behaviour(status=429, headers={"retry-after": "0"}), "rate_limited", "429"),
    (Behaviour(delay_s=1.0), "timeout", "504"),
    (Behaviour(refuse=True), "network_error", "502"),
])
async def test_primary_failure_falls_back(h: Harness, behaviour: Behaviour, reason: str, status: str) -> None:
    with_fallback(h, h.slot("openai", "gpt-4o", timeoutMs=250), h.slot("anthropic", "claude-sonnet-4-5"))
    h.fake.script("gpt-4o", behaviour)
    r = await h.call("chat", chat())
    assert r.status == 200, r.body
    assert r.json()["choices"][0]["message"]["content"] == "Hello from claude-sonnet-4-5"
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5" and r.headers["x-vmx-provider"] == "anthropic"
    assert r.headers["x-vmx-event-count"] == "1"
    assert fallback_headers(r.headers, 0) == ("fallback", "gpt-4o", reason, status)
    rec = r.record
    assert rec is not None and rec.status_code == 200 and rec.model == "claude-sonnet-4-5"
    [event] = rec.events
    assert event["type"] == "fallback" and event["model"] == "gpt-4o" and event["failureReason"] == reason
    assert event["slot"] == "model" and event["statusCode"] == int(status)


async def test_refused_connection_falls_back(h: Harness) -> None:
    refused = h.connection("openai", config={"apiKey": "k", "baseUrl": h.fake.refused_url() + "/v1"})
    with_fallback(h, {"provider": "openai", "model": "gpt-4o", "connectionId": refused.id},
                  h.slot("openai", "gpt-4o-mini"))
    r = await h.call("responses", {"model": "res", "input": "hi"})
    assert r.status == 200 and r.headers["x-vmx-model"] == "gpt-4o-mini"
    assert fallback_headers(r.headers, 0)[2] == "network_error"


async def test_stream_cut_before_first_byte_falls_back(h: Harness) -> None:
    with_fallback(h, h.slot("anthropic", "claude-sonnet-4-5"), h.slot("bedrock", "amazon.nova-pro-v1:0"))
    h.fake.script("claude-sonnet-4-5", Behaviour(cut_after_chunks=0))
    r = await h.call("anthropic", {"model": "res", "max_tokens": 64, "stream": True,
                                   "messages": [{"role": "user", "content": "hi"}]})
    assert r.status == 200
    events = sse_events(r.body)
    assert events[-1][0] == "message_stop"
    text = "".join(d["delta"].get("text", "") for n, d in events if n == "content_block_delta")
    assert text == "Hello from amazon.nova-pro-v1:0"
    assert fallback_headers(r.headers, 0) == ("fallback", "claude-sonnet-4-5", "network_error", "502")
    assert r.record is not None and r.record.status_code == 200 and len(r.record.events) == 1


@pytest.mark.parametrize(("endpoint", "provider", "model"), [
    ("chat", "openai", "gpt-4o"), ("chat", "anthropic", "claude-sonnet-4-5"),
    ("anthropic", "anthropic", "claude-sonnet-4-5"), ("anthropic", "openai", "gpt-4o"),
    ("responses", "openai", "gpt-4o"), ("responses", "bedrock", "amazon.nova-pro-v1:0"),
])
async def test_stream_cut_after_first_byte_ends_with_an_error_event(h: Harness, endpoint: str, provider: str,
                                                                    model: str) -> None:
    with_fallback(h, h.slot(provider, model), h.slot("openai", "gpt-4o-mini"))
    h.fake.script(model, Behaviour(cut_after_chunks=2, text="one two three four five six seven"))
    body: dict[str, Any] = ({"model": "res", "input": "hi"} if endpoint == "responses" else
                            chat(max_tokens=64))
    r = await h.call(endpoint, {**body, "stream": True})
    assert r.status == 200 and r.headers["x-vmx-model"] == model  # committed before the cut
    events = sse_events(r.body)
    name, data = events[-1]
    if endpoint == "chat":
        assert "error" in data and data["error"]["message"]
        assert "[DONE]" not in [d for _, d in events]
    elif endpoint == "anthropic":
        assert name == "error" and data["error"]["type"] and "message_stop" not in [n for n, _ in events]
    else:
        assert any(n == "error" for n, _ in events)
        assert "response.completed" not in [n for n, _ in events]
    assert not h.fake.requests_for("gpt-4o-mini")  # no fallback once bytes went out
    rec = r.record
    assert rec is not None and rec.status_code >= 500 and rec.error_message and rec.stream


async def test_retries_with_backoff_and_retry_after(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o", maxRetries=2))
    h.fake.script("gpt-4o", Behaviour(status=503), Behaviour(status=429, headers={"retry-after": "2"}))
    r = await h.call("chat", chat())
    assert r.status == 200 and r.headers["x-vmx-event-count"] == "0"
    assert len(h.fake.requests_for("gpt-4o")) == 3
    assert len(h.sleeps) == 2 and 0 <= h.sleeps[0] < 0.2 and h.sleeps[1] == 2.0  # jittered, then Retry-After


async def test_exhausted_chain_answers_502_with_every_leg(h: Harness) -> None:
    with_fallback(h, h.slot("openai", "gpt-4o"), h.slot("anthropic", "claude-sonnet-4-5"),
                  h.slot("bedrock", "amazon.nova-pro-v1:0"))
    for model in ("gpt-4o", "claude-sonnet-4-5", "amazon.nova-pro-v1:0"):
        h.fake.script(model, Behaviour(status=500, error_message=f"{model} is down"))
    r = await h.call("anthropic", chat(max_tokens=10))
    assert r.status == 502 and r.json()["type"] == "error"
    assert "amazon.nova-pro-v1:0 is down" in r.json()["error"]["message"]
    assert r.headers["x-vmx-event-count"] == "3"
    assert [fallback_headers(r.headers, i)[1] for i in range(3)] == ["gpt-4o", "claude-sonnet-4-5",
                                                                    "amazon.nova-pro-v1:0"]
    rec = r.record
    assert rec is not None and rec.status_code == 502 and [e["slot"] for e in rec.events] == [
        "model", "fallbackModels[0]", "fallbackModels[1]"]


async def test_request_deadline_bounds_every_leg(h: Harness) -> None:
    with_fallback(h, h.slot("openai", "gpt-4o"), h.slot("openai", "gpt-4o-mini"))
    h.fake.script("gpt-4o", Behaviour(delay_s=1.0))
    h.fake.script("gpt-4o-mini", Behaviour(delay_s=1.0))
    started = time.monotonic()
    r = await h.call("chat", chat(vmx={"timeoutMs": 300}))
    assert time.monotonic() - started < 0.9
    assert r.status == 504 and r.json()["error"]["code"] == "timeout"


async def test_upstream_429_without_fallback_is_429_with_retry_after(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    h.fake.script("gpt-4o", Behaviour(status=429, headers={"retry-after": "7"}))
    r = await h.call("chat", chat())
    assert r.status == 429 and r.headers["retry-after"] == "7"


async def test_circuit_breaker_skips_a_failing_model(h: Harness) -> None:
    with_fallback(h, h.slot("openai", "gpt-4o"), h.slot("openai", "gpt-4o-mini"))
    h.fake.set_default("gpt-4o", Behaviour(status=500))
    for _ in range(5):
        assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o-mini"
    assert len(h.fake.requests_for("gpt-4o")) == 5
    r = await h.call("chat", chat())
    assert r.status == 200 and len(h.fake.requests_for("gpt-4o")) == 5  # open: not even tried
    assert fallback_headers(r.headers, 0)[2:] == ("circuit_open", "503")


class DenyFirst:
    """A gate that denies the first connection it sees, like a capacity limit would."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.settled: list[Usage | None] = []

    async def check(self, ctx: LegContext) -> GateResult:
        self.checked.append(ctx.slot.model)
        if len(self.checked) == 1:
            return GateResult(False, "resource_exhausted", "connection x reached 1 request per minute", 12.0)
        return GateResult(True)

    async def settle(self, ctx: LegContext, result: GateResult, usage: Usage | None, *, failed: bool) -> None:
        self.settled.append(usage)


async def test_gate_denial_falls_back_like_a_429(h: Harness) -> None:
    gate = DenyFirst()
    h.engine.deps.gate, h.engine.deps.gate_active = gate, True
    with_fallback(h, h.slot("openai", "gpt-4o"), h.slot("openai", "gpt-4o-mini"))
    r = await h.call("chat", chat())
    assert r.status == 200 and r.headers["x-vmx-model"] == "gpt-4o-mini"
    assert fallback_headers(r.headers, 0) == ("fallback", "gpt-4o", "capacity", "429")
    assert gate.checked == ["gpt-4o", "gpt-4o-mini"] and gate.settled and gate.settled[-1]
    assert not h.fake.requests_for("gpt-4o")
    h.resource("solo", h.slot("openai", "gpt-4o"))
    gate.checked.clear()
    r = await h.call("chat", chat("solo"))
    assert r.status == 429 and r.headers["retry-after"] == "12"
    assert r.json()["error"]["code"] == "resource_exhausted"


async def test_provider_refusing_the_connection_credentials_falls_back(h: Harness) -> None:
    with_fallback(h, h.slot("openai", "gpt-4o"), h.slot("openai", "gpt-4o-mini"))
    h.fake.script("gpt-4o", Behaviour(status=401, error_message="Incorrect API key provided"))
    r = await h.call("chat", chat())
    assert r.status == 200 and fallback_headers(r.headers, 0)[2:] == ("provider_configuration", "401")
    h.resource("solo", h.slot("anthropic", "claude-sonnet-4-5"))
    h.fake.script("claude-sonnet-4-5", Behaviour(status=401))
    r = await h.call("anthropic", chat("solo", max_tokens=5))
    assert r.status == 502 and r.json()["error"]["type"] == "api_error"  # never a 401 about the caller's key


async def test_missing_connection_is_skipped(h: Harness) -> None:
    with_fallback(h, {"provider": "openai", "model": "gpt-4o", "connectionId": "deadbeef"},
                  h.slot("openai", "gpt-4o-mini"))
    r = await h.call("chat", chat())
    assert r.status == 200 and fallback_headers(r.headers, 0)[2] == "configuration_error"
