"""Client request (3 endpoint shapes) -> canonical -> provider body (every provider family).

Each provider body is read back by a wire-specific summarizer and must say the same thing:
same system prompt, turns, images, tools, tool calls/results, tool choice and sampling params.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.test_convert_cases import (
    CLIENT_REQUESTS,
    ENDPOINTS,
    PARSERS,
    PNG,
    PROVIDERS,
    SCENARIOS,
    SUMMARIZERS,
)
from vmx_app.gateway.convert import anthropic, bedrock_converse, openai_chat, openai_responses
from vmx_app.gateway.convert.registry import build_provider_request

SYSTEM = "You are terse.\n\nAnswer in French."
TURN_USER = [("user", ["text"])]
EXPECTED: dict[str, dict[str, Any]] = {
    "text": {"turns": TURN_USER, "temperature": 0.2, "top_p": 0.9},
    "system": {"system": SYSTEM, "turns": TURN_USER},
    "image": {"turns": [("user", ["text", "image"])], "images": [("image/png", PNG)]},
    "tools": {
        "turns": [("user", ["text"]), ("assistant", ["tool_call"]), ("tool", ["tool_result"])],
        "tools": ["get_weather"],
        "tool_calls": [("call_1", "get_weather", {"city": "Paris"})],
        "tool_results": [("call_1", "18C and sunny")],
        "tool_choice": ("tool", "get_weather"),
    },
    "stream": {"turns": TURN_USER},
}


def _build(endpoint: str, scenario: str, wire: str, provider: str) -> tuple[dict[str, Any], dict[str, Any]]:
    client = copy.deepcopy(CLIENT_REQUESTS[endpoint][scenario])
    req = PARSERS[endpoint](client)
    return client, build_provider_request(wire, req, "upstream-model", provider)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(("wire", "provider"), PROVIDERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_request_conversion(endpoint: str, wire: str, provider: str, scenario: str) -> None:
    client, body = _build(endpoint, scenario, wire, provider)
    summary = SUMMARIZERS[wire](body)
    expected = {"system": "", "images": [], "tools": [], "tool_calls": [], "tool_results": [], "tool_choice": None,
                "temperature": None, "top_p": None, **EXPECTED[scenario]}
    client_max = client.get("max_tokens") or client.get("max_output_tokens")
    expected["max_tokens"] = client_max or (4096 if wire == "anthropic" else None)
    expected["stream"] = scenario == "stream" and wire != "bedrock_converse" and provider != "bedrock-invoke"
    assert summary == expected

    # Provider-specific framing.
    if wire == "anthropic" and provider == "bedrock-invoke":
        assert body["anthropic_version"] == "bedrock-2023-05-31"
        assert "model" not in body and "stream" not in body
    elif wire == "bedrock_converse":
        assert "modelId" not in body and "model" not in body
    else:
        assert body["model"] == "upstream-model"
    if wire == "openai_chat" and scenario == "stream":
        if provider == "perplexity":
            assert "stream_options" not in body
        else:
            assert body["stream_options"] == {"include_usage": True}
    if scenario == "tools":
        _assert_parallel(wire, body)


def _assert_parallel(wire: str, body: dict[str, Any]) -> None:
    """Every tools case asks for no parallel tool calls."""
    if wire in ("openai_chat", "openai_responses"):
        assert body["parallel_tool_calls"] is False
    elif wire == "anthropic":
        assert body["tool_choice"]["disable_parallel_tool_use"] is True
    else:  # Converse has no such switch; the forced tool choice still reaches it
        assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "get_weather"}}


def test_openai_max_tokens_field_per_provider() -> None:
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 9})
    assert openai_chat.build_request(req, "gpt-4o", "openai")["max_completion_tokens"] == 9
    assert openai_chat.build_request(req, "llama", "groq")["max_tokens"] == 9


def test_stop_sequences_and_top_k_travel() -> None:
    chat = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}], "stop": "END"})
    assert anthropic.build_request(chat, "claude")["stop_sequences"] == ["END"]
    assert bedrock_converse.build_request(chat, "amazon.nova")["inferenceConfig"]["stopSequences"] == ["END"]
    msg = anthropic.parse_request({"model": "r", "max_tokens": 5, "top_k": 40, "stop_sequences": ["X"],
                                   "messages": [{"role": "user", "content": "hi"}]})
    body = openai_chat.build_request(msg, "sonar", "perplexity")
    assert (body["stop"], body["top_k"], body["max_tokens"]) == (["X"], 40, 5)
    assert bedrock_converse.build_request(msg, "anthropic.claude")["additionalModelRequestFields"] == {"top_k": 40}


def test_reasoning_effort_becomes_thinking_budget_with_room_to_answer() -> None:
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}],
                                     "reasoning_effort": "low", "max_completion_tokens": 1000})
    body = anthropic.build_request(req, "claude-sonnet-4")
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] > 2048
    conv = bedrock_converse.build_request(req, "us.anthropic.claude-sonnet-4")
    assert conv["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2048
    assert conv["inferenceConfig"]["maxTokens"] > 2048


def test_thinking_budget_becomes_reasoning_effort() -> None:
    req = anthropic.parse_request({"model": "r", "max_tokens": 20000, "thinking": {"type": "enabled",
                                   "budget_tokens": 16000}, "messages": [{"role": "user", "content": "hi"}]})
    assert openai_chat.build_request(req, "o3", "openai")["reasoning_effort"] == "medium"
    assert openai_responses.build_request(req, "o3")["reasoning"] == {"effort": "medium", "summary": "auto"}


def test_signed_thinking_round_trips_between_claude_families_only() -> None:
    history = {"model": "r", "max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024},
               "messages": [
                   {"role": "user", "content": "Weather?"},
                   {"role": "assistant", "content": [
                       {"type": "thinking", "thinking": "Need the tool.", "signature": "sig-1"},
                       {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}]}
    req = anthropic.parse_request(history)
    conv = bedrock_converse.build_request(req, "anthropic.claude-sonnet-4")
    assert conv["messages"][1]["content"][0] == {
        "reasoningContent": {"reasoningText": {"text": "Need the tool.", "signature": "sig-1"}}}
    chat = openai_chat.build_request(req, "gpt-4o")
    assert chat["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "toolu_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]}


def test_chat_thinking_blocks_reach_claude() -> None:
    req = openai_chat.parse_request({"model": "r", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello", "reasoning_content": "greet",
         "thinking_blocks": [{"type": "thinking", "thinking": "greet", "signature": "sig"}]},
        {"role": "user", "content": "again"}]})
    body = anthropic.build_request(req, "claude")
    assert body["messages"][1]["content"] == [{"type": "thinking", "thinking": "greet", "signature": "sig"},
                                              {"type": "text", "text": "Hello"}]


def test_anthropic_cache_control_becomes_converse_cache_points() -> None:
    cached = {"type": "text", "text": "long doc", "cache_control": {"type": "ephemeral"}}
    req = anthropic.parse_request({"model": "r", "max_tokens": 10, "system": [cached],
                                   "messages": [{"role": "user", "content": "hi"}]})
    assert bedrock_converse.build_request(req, "anthropic.claude")["system"] == [
        {"text": "long doc"}, {"cachePoint": {"type": "default"}}]
    assert anthropic.build_request(req, "claude")["system"] == [
        {"type": "text", "text": "long doc", "cache_control": {"type": "ephemeral"}}]


def test_extra_params_pass_through_and_native_params_stay_home() -> None:
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}], "seed": 7,
                                     "search_recency_filter": "week", "user": "u-1", "vmx": {"correlationId": "c"}})
    pplx = openai_chat.build_request(req, "sonar", "perplexity")
    assert pplx["search_recency_filter"] == "week" and pplx["seed"] == 7 and "vmx" not in pplx
    claude = anthropic.build_request(req, "claude")
    assert "seed" not in claude and claude["metadata"] == {"user_id": "u-1"}
    assert claude["search_recency_filter"] == "week"


def test_tool_results_merge_into_alternating_turns() -> None:
    req = openai_chat.parse_request({"model": "r", "messages": [
        {"role": "user", "content": "two cities"},
        {"role": "assistant", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "w", "arguments": "{\"c\":1}"}},
            {"id": "b", "type": "function", "function": {"name": "w", "arguments": "{\"c\":2}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": "2"},
        {"role": "user", "content": "and?"}]})
    for body, key in ((anthropic.build_request(req, "c"), "role"), (bedrock_converse.build_request(req, "c"), "role")):
        roles = [m[key] for m in body["messages"]]
        assert roles == ["user", "assistant", "user"]
    assert [b["type"] for b in anthropic.build_request(req, "c")["messages"][2]["content"]] == [
        "tool_result", "tool_result", "text"]


def test_tool_choice_none_on_converse_offers_no_tools() -> None:
    tool = {"type": "function", "function": {"name": "w", "parameters": {}}}
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}],
                                     "tool_choice": "none", "tools": [tool]})
    assert "toolConfig" not in bedrock_converse.build_request(req, "amazon.nova-pro")
    assert anthropic.build_request(req, "claude")["tool_choice"] == {"type": "none"}


def test_response_format_maps_between_openai_shapes() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "city", "schema": {"type": "object"}, "strict": True}}
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}],
                                     "response_format": fmt})
    assert openai_responses.build_request(req, "gpt-4o")["text"]["format"] == {
        "type": "json_schema", "name": "city", "schema": {"type": "object"}, "strict": True}
    back = openai_responses.parse_request({"model": "r", "input": "hi", "text": {"format": {
        "type": "json_schema", "name": "city", "schema": {"type": "object"}, "strict": True}}})
    assert openai_chat.build_request(back, "gpt-4o")["response_format"] == fmt


def test_bedrock_invoke_body_and_pass_through_helper() -> None:
    req = openai_chat.parse_request({"model": "r", "user": "u-1", "messages": [{"role": "user", "content": "hi"}],
                                     "stream": True})
    body = anthropic.build_request(req, "anthropic.claude-sonnet-4", bedrock=True)
    assert "metadata" not in body and "model" not in body and "stream" not in body
    assert (body["anthropic_version"], body["max_tokens"]) == ("bedrock-2023-05-31", 4096)
    client_body = {"model": "my-resource", "max_tokens": 5, "stream": True, "messages": [],
                   "thinking": {"type": "adaptive"}}
    assert anthropic.to_bedrock_invoke(client_body) == {"max_tokens": 5, "messages": [],
                                                        "thinking": {"type": "adaptive"},
                                                        "anthropic_version": "bedrock-2023-05-31"}


def test_anthropic_only_thinking_modes_stay_verbatim_for_anthropic() -> None:
    req = anthropic.parse_request({"model": "r", "max_tokens": 5, "thinking": {"type": "adaptive"},
                                   "messages": [{"role": "user", "content": "hi"}]})
    assert anthropic.build_request(req, "claude")["thinking"] == {"type": "adaptive"}
    assert openai_chat.build_request(req, "o3")["reasoning_effort"] == "medium"


def test_openai_strict_tools_do_not_turn_on_anthropic_strict_mode() -> None:
    tool = {"type": "function", "function": {"name": "w", "parameters": {"type": "object"}, "strict": True}}
    req = openai_chat.parse_request({"model": "r", "messages": [{"role": "user", "content": "hi"}], "tools": [tool]})
    assert anthropic.build_request(req, "claude")["tools"] == [{"name": "w", "input_schema": {"type": "object"}}]
    assert openai_responses.build_request(req, "gpt-4o")["tools"][0]["strict"] is True
