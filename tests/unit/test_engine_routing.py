"""Routing, secondary models, merge precedence and per-request overrides, through the engine."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.fakes.upstream import Behaviour
from tests.unit.test_engine import ENV, Harness, chat

pytestmark = pytest.mark.usefixtures("close_adapters")  # fixtures: tests/unit/conftest.py


def cond(field: str, operator: str, value: Any, then: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"if": [{"field": field, "operator": operator, "value": value}], **extra}
    if then is not None:
        out["then"] = then
    return out


async def test_routing_routes_and_reports_the_event(h: Harness) -> None:
    mini = h.slot("openai", "gpt-4o-mini")
    h.resource("res", h.slot("openai", "gpt-4o"), routing={"enabled": True, "conditions": [
        {"description": "short prompts", "if": [{"field": "requestTokens", "operator": "lessThan", "value": 100}],
         "then": mini}]})
    r = await h.call("chat", chat(text="hi"))
    assert r.headers["x-vmx-model"] == "gpt-4o-mini" and r.headers["x-vmx-event-count"] == "1"
    assert r.headers["x-vmx-event-0-type"] == "routing"
    assert r.headers["x-vmx-event-0-routing-original-model"] == "gpt-4o"
    assert r.headers["x-vmx-event-0-routing-routed-model"] == "gpt-4o-mini"
    assert float(r.headers["x-vmx-routing-duration-ms"]) > 0
    rec = r.record
    assert rec is not None and rec.events[0]["matchedRoute"] == "short prompts" and rec.routing_duration_ms
    r = await h.call("chat", chat(text="x" * 1000))
    assert r.headers["x-vmx-model"] == "gpt-4o" and r.headers["x-vmx-event-count"] == "0"


async def test_seed_cel_example_and_error_rate_switch(h: Harness) -> None:
    res = h.resource("res", h.slot("openai", "gpt-4o"), routing={"enabled": True, "conditions": [
        {"expression": "requestTokens < 100 && errorRate(10, 'any') < 5", "then": h.slot("openai", "gpt-4o-mini")}]})
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o-mini"
    primary = res.model
    for _ in range(3):  # failures of the primary model push its error rate over 5 %
        h.rates.record((res.id, primary.connection_id, "gpt-4o"), 500, time.time())
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o"


async def test_errors_of_the_primary_feed_the_error_rate(h: Harness) -> None:
    res = h.resource("res", h.slot("openai", "gpt-4o"), useFallback=True,
                     fallbackModels=[h.slot("openai", "gpt-4o-mini")], routing={"enabled": True, "conditions": [
                         cond("errorRate", "greaterThan", 60, h.slot("anthropic", "claude-sonnet-4-5")),
                     ]})
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o"
    h.fake.script("gpt-4o", Behaviour(status=500), Behaviour(status=500))
    for _ in range(2):  # 1 of 2, then 2 of 3 failed: not yet over 50 % when each request is routed
        r = await h.call("chat", chat())
        assert r.headers["x-vmx-model"] == "gpt-4o-mini" and r.headers["x-vmx-event-0-type"] == "fallback"
    stats = h.rates.stats((res.id, res.model.connection_id, "gpt-4o"), 10, "any", time.time())
    assert (stats.total_failed, stats.total_success) == (2, 1)
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "claude-sonnet-4-5"


async def test_block_action_is_400(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), routing={"enabled": True, "conditions": [
        {"description": "no secrets", "if": [{"field": "lastMessage", "operator": "contains", "value": "password"}],
         "action": "block"}]})
    r = await h.call("anthropic", chat(text="my password is hunter2", max_tokens=5))
    assert r.status == 400 and "no secrets" in r.json()["error"]["message"]
    assert r.record is not None and r.record.error_type == "blocked_by_routing_condition"
    assert not h.fake.requests
    r = await h.call("chat", chat(text="hello"))
    assert r.status == 200


async def test_traffic_split_and_metadata_and_api_key_fields(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), routing={"enabled": True, "conditions": [
        cond("metadata.tier", "equals", "gold", h.slot("anthropic", "claude-sonnet-4-5")),
        cond("apiKeyName", "equals", "test-key", {**h.slot("openai", "gpt-4o-mini"), "traffic": 30}),
    ]})
    r = await h.call("chat", chat(vmx={"metadata": {"tier": "gold"}}))
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    h.draws[:] = [0.29]
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o-mini"
    h.draws[:] = [0.31]  # loses the draw: falls through to the primary
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "gpt-4o"


async def test_secondary_model_index_zero_skips_routing_keeps_fallback(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), secondaryModels=[h.slot("anthropic", "claude-sonnet-4-5"),
                                                                  h.slot("openai", "gpt-4o-mini")],
               useFallback=True, fallbackModels=[h.slot("bedrock", "amazon.nova-pro-v1:0")],
               routing={"enabled": True, "conditions": [cond("messagesCount", "greaterThan", 0,
                                                             h.slot("groq", "llama-3.3-70b-versatile"))]})
    r = await h.call("chat", chat(vmx={"secondaryModelIndex": 0}))
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5" and r.headers["x-vmx-event-count"] == "0"
    assert (await h.call("chat", chat(vmx={"secondaryModelIndex": 1}))).headers["x-vmx-model"] == "gpt-4o-mini"
    assert (await h.call("chat", chat())).headers["x-vmx-model"] == "llama-3.3-70b-versatile"
    h.fake.script("claude-sonnet-4-5", Behaviour(status=503))
    r = await h.call("chat", chat(vmx={"secondaryModelIndex": 0}))
    assert r.headers["x-vmx-model"] == "amazon.nova-pro-v1:0"
    assert r.record is not None and r.record.events[0]["slot"] == "secondaryModels[0]"


async def test_merge_precedence_default_args_body_provider_args(h: Harness) -> None:
    # Perplexity: search_recency_filter is its own parameter (OpenAI itself refuses unknown ones).
    h.resource("res", h.slot("perplexity", "sonar"), defaultArgs={
        "temperature": 0.2, "top_p": 0.5, "metadata": {"a": "default", "b": "default"}, "seed": 1})
    body = chat(text="echo-request", temperature=0.9, metadata={"b": "body"},
                vmx={"providerArgs": {"seed": 42, "metadata": {"c": "provider"}, "search_recency_filter": "week"}})
    r = await h.call("chat", body)
    sent = json.loads(r.json()["choices"][0]["message"]["content"])
    assert sent["temperature"] == 0.9 and sent["top_p"] == 0.5 and sent["seed"] == 42
    assert sent["metadata"] == {"a": "default", "b": "body", "c": "provider"}
    assert sent["search_recency_filter"] == "week" and "vmx" not in sent and sent["model"] == "sonar"
    rec = r.record
    assert rec is not None and rec.request_payload is not None and rec.request_payload["seed"] == 42


async def test_provider_args_win_over_messages_on_converted_legs(h: Harness) -> None:
    h.resource("res", h.slot("anthropic", "claude-sonnet-4-5"))
    body = chat(text="ignored", vmx={"providerArgs": {"messages": [{"role": "user", "content": "echo-request"}],
                                                      "top_k": 7}})
    r = await h.call("chat", body)
    sent = json.loads(r.json()["choices"][0]["message"]["content"])
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "echo-request"}]}]
    assert sent["top_k"] == 7


async def test_overrides_with_connection_name(h: Harness) -> None:
    claude = h.connection("anthropic", name="claude-prod")
    # The resource already uses claude-prod (unused fallback): overrides may name it.
    h.resource("res", h.slot("openai", "gpt-4o"), fallbackModels=[
        {"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionId": claude.id}])
    r = await h.call("chat", chat(vmx={"resourceConfigOverrides": {
        "model": {"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionName": "claude-prod"}}}))
    assert r.status == 200 and r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    r = await h.call("chat", chat(vmx={"resourceConfigOverrides": {"useFallback": True, "fallbackModels": [
        {"provider": "openai", "model": "gpt-4o-mini", "connectionName": "claude-prod"},
        {"provider": "openai", "model": "gpt-4o-mini", "connectionName": "missing"}]}}))
    assert r.status == 400 and "fallbackModels[1]" in r.json()["error"]["message"]
    assert r.json()["error"]["param"] == "vmx.resourceConfigOverrides.fallbackModels[1].connectionName"
    stored = h.config.resources[(ENV, "res")]
    assert stored.model.model == "gpt-4o" and stored.use_fallback is False  # the cached snapshot is untouched


async def test_allowed_models_are_enforced(h: Harness) -> None:
    conn = h.connection("openai", allowedModels=["gpt-4o"])
    h.resource("res", {"provider": "openai", "model": "gpt-4o", "connectionId": conn.id})
    assert (await h.call("chat", chat())).status == 200
    r = await h.call("chat", chat(vmx={"resourceConfigOverrides": {"model": {"model": "gpt-4o-mini"}}}))
    assert r.status == 400 and "allowed models" in r.json()["error"]["message"]
    assert not h.fake.requests_for("gpt-4o-mini")
