"""Issue 12 through the engine, the real adapters and the strict fake upstream (which refuses what the
providers refuse): reasoning + tools for clients that drop the thinking, reasoning for models that
cannot reason, structured output, count_tokens' source header, Anthropic base URLs without /v1."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from tests.fakes.upstream_strict import sign
from tests.unit.test_engine import ENV, KEY_HASH, WS, Harness, sse_events
from vmx_app.gateway import catalog
from vmx_app.gateway.adapters.anthropic import api_base
from vmx_app.gateway.engine import GatewayRequest
from vmx_app.gateway.thinking_store import InProcessThinkingStore

pytestmark = pytest.mark.usefixtures("close_adapters")  # fixtures: tests/unit/conftest.py

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
          "required": ["city", "temp"], "additionalProperties": False}


def chat_answer(raw: bytes, stream: bool) -> tuple[str, list[dict[str, Any]], str]:
    """(content, tool calls, finish_reason) of a chat answer, streamed or not."""
    if not stream:
        choice = orjson.loads(raw)["choices"][0]
        return choice["message"]["content"] or "", choice["message"].get("tool_calls") or [], choice["finish_reason"]
    content, calls, finish = "", [], ""
    for _, data in sse_events(raw):
        if data == "[DONE]" or not data.get("choices"):
            continue
        delta = data["choices"][0]["delta"]
        content += delta.get("content") or ""
        for call in delta.get("tool_calls") or []:
            if call.get("id"):
                calls.append({"id": call["id"], "type": "function",
                              "function": {"name": call["function"]["name"], "arguments": ""}})
            calls[-1]["function"]["arguments"] += call["function"].get("arguments") or ""
        finish = data["choices"][0]["finish_reason"] or finish
    return content, calls, finish


async def tool_loop(h: Harness, stream: bool) -> tuple[Any, Any]:
    """A LangChain-like client: reasoning + tools, and it does NOT send the thinking back."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "What's the weather in Paris?"}]
    base = {"model": "res", "tools": TOOLS, "reasoning_effort": "low", "stream": stream}
    first = await h.call("chat", {**base, "messages": messages})
    assert first.status == 200, first.body
    _, calls, finish = chat_answer(first.body, stream)
    assert finish == "tool_calls" and calls
    messages += [{"role": "assistant", "content": None, "tool_calls": calls},
                 {"role": "tool", "tool_call_id": calls[0]["id"], "content": "21 degrees"}]
    second = await h.call("chat", {**base, "messages": messages})
    return first, second


@pytest.mark.parametrize("stream", [False, True])
async def test_reasoning_tools_round_trip_restores_dropped_thinking(h: Harness, stream: bool) -> None:
    h.resource("res", h.slot("anthropic", "claude-sonnet-4-5"))
    _, second = await tool_loop(h, stream)
    assert second.status == 200, second.body  # the strict fake refuses a tool turn without its thinking
    sent = h.fake.requests_for("claude-sonnet-4-5")[-1].json
    assistant = sent["messages"][1]["content"]
    assert assistant[0]["type"] == "thinking" and assistant[0]["signature"] == sign(assistant[0]["thinking"])
    assert sent["thinking"]["type"] == "enabled" and second.record is not None and second.record.events == []


@pytest.mark.parametrize("stream", [False, True])
async def test_no_kept_thinking_disables_thinking_for_that_request(h: Harness, stream: bool) -> None:
    h.resource("res", h.slot("anthropic", "claude-sonnet-4-5"))
    h.engine.deps.thinking = InProcessThinkingStore(ttl_s=0.0)  # kept nothing (expired at once)
    first, second = await tool_loop(h, stream)
    assert second.status == 200, second.body
    sent = h.fake.requests_for("claude-sonnet-4-5")[-1].json
    assert "thinking" not in sent and sent["messages"][1]["content"][0]["type"] == "tool_use"
    assert second.record is not None
    assert [e["type"] for e in second.record.events] == ["conversion"]
    assert "thinking disabled" in second.record.events[0]["note"]
    assert second.headers["x-vmx-event-0-type"] == "conversion"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "dropped"), [("gpt-4o", True), ("o4-mini", False)])
async def test_claude_code_thinking_to_openai_only_where_it_reasons(h: Harness, stream: bool, model: str,
                                                                   dropped: bool) -> None:
    h.resource("res", h.slot("openai", model))
    body = {"model": "res", "max_tokens": 512, "stream": stream, "thinking": {"type": "adaptive"},
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                         {"role": "system", "content": "Plan mode is on."}, {"role": "user", "content": "go"}]}
    r = await h.call("anthropic", body)
    assert r.status == 200, r.body
    sent = h.fake.requests_for(model)[-1].json
    assert ("reasoning_effort" in sent) is not dropped
    assert sent["messages"][2] == {"role": "system", "content": "Plan mode is on."}
    assert r.record is not None and len(r.record.events) == int(dropped)
    if dropped:
        assert r.record.events[0]["type"] == "conversion" and "gpt-4o" in r.record.events[0]["note"]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model", "native"), [("claude-sonnet-4-5", True), ("claude-3-5-haiku-latest", False)])
async def test_chat_structured_output_on_claude(h: Harness, stream: bool, model: str, native: bool) -> None:
    h.resource("res", h.slot("anthropic", model))
    body = {"model": "res", "stream": stream, "messages": [{"role": "user", "content": "weather as JSON"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": SCHEMA, "strict": True}}}
    r = await h.call("chat", body)
    assert r.status == 200, r.body
    content, calls, finish = chat_answer(r.body, stream)
    assert json.loads(content) == {"city": "Paris", "temp": 21.5} and calls == [] and finish == "stop"
    sent = h.fake.requests_for(model)[-1].json
    assert ("output_config" in sent) is native and ("tool_choice" in sent) is not native


async def test_count_tokens_says_where_the_count_comes_from(h: Harness) -> None:
    h.resource("claude", h.slot("anthropic", "claude-sonnet-4-5"))
    h.resource("gpt", h.slot("openai", "gpt-4o"))
    for name, source in (("claude", "provider"), ("gpt", "estimate")):
        body = orjson.dumps({"model": name, "messages": [{"role": "user", "content": "count me"}]})
        resp = await catalog.count_tokens(h.engine, GatewayRequest(WS, ENV, "anthropic", body, KEY_HASH))
        assert resp.status == 200 and resp.headers["x-vmx-token-count-source"] == source


@pytest.mark.parametrize("base", ["", "/v1", "/v1/", "/"])
async def test_anthropic_base_url_with_or_without_v1(h: Harness, base: str) -> None:
    conn = h.connection("anthropic", config={"apiKey": "sk-ant", "baseUrl": h.fake.url + base})
    h.resource("res", {"provider": "anthropic", "model": "claude-sonnet-4-5", "connectionId": conn.id})
    r = await h.call("anthropic", {"model": "res", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status == 200 and h.fake.last_request.path == "/v1/messages"


@pytest.mark.parametrize(("base", "expected"), [
    ("https://api.anthropic.com", "https://api.anthropic.com/v1"),
    ("https://api.anthropic.com/v1/", "https://api.anthropic.com/v1"),
    ("https://proxy.example/anthropic", "https://proxy.example/anthropic/v1"),
    ("https://proxy.example/anthropic/v1", "https://proxy.example/anthropic/v1"),
    (None, "https://api.anthropic.com/v1"),
])
def test_api_base(base: str | None, expected: str) -> None:
    assert api_base({"baseUrl": base} if base else {}) == expected
