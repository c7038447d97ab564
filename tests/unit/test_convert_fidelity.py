"""Issue 12, request side, table-driven: system turns inside Anthropic `messages`, reasoning only for
models that reason, OpenAI structured output to Anthropic and Anthropic structured output to OpenAI.
Each case runs non-streaming and streaming (the body differs only by the stream flags)."""

from __future__ import annotations

from typing import Any

import pytest

from vmx_app.gateway.config import ModelCapabilities
from vmx_app.gateway.convert import registry
from vmx_app.gateway.convert.capabilities import ModelCaps, guess_caps, resolve_caps
from vmx_app.gateway.convert.common import STRUCTURED_TOOL
from vmx_app.gateway.types import UnsupportedContent

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "temp": {"type": "number"}},
          "required": ["city", "temp"], "additionalProperties": False}
LOOSE = {"type": "object", "properties": {"city": {"type": "string"}}}
WIRE = {"openai": "openai_chat", "anthropic": "anthropic", "bedrock": "bedrock_converse"}
USER = {"role": "user", "content": "hi"}
SHAPES = {"chat": "openai_chat", "responses": "openai_responses"}


def convert(endpoint: str, body: dict[str, Any], provider: str, model: str, stream: bool,
            wire: str | None = None, caps: ModelCaps | None = None) -> tuple[dict[str, Any], list[str]]:
    body = {"model": "res", **body, **({"stream": True} if stream else {})}
    if endpoint == "anthropic":
        body.setdefault("max_tokens", 256)
    req = registry.parse_endpoint_request(SHAPES.get(endpoint, endpoint), body)
    notes: list[str] = []
    out = registry.build_provider_request(wire or WIRE[provider], req, model, provider, caps, notes)
    assert out.get("stream", False) is stream or provider == "bedrock"
    return out, notes


# ---- 1. system turns inside Anthropic messages -----------------------------------------------------------

CLAUDE_CODE = {"system": "You are Claude Code.", "messages": [
    USER, {"role": "assistant", "content": "ok"},
    {"role": "system", "content": [{"type": "text", "text": "Plan mode is on."}]},
    {"role": "user", "content": "next"}]}

SYSTEM_TURNS = [  # (target wire, provider, model, check)
    ("openai_chat", "openai", "gpt-4o", lambda b: [m["role"] for m in b["messages"]] == [
        "system", "user", "assistant", "system", "user"] and b["messages"][3]["content"] == "Plan mode is on."),
    ("openai_chat", "groq", "llama-3.3-70b-versatile", lambda b: b["messages"][3] == {
        "role": "system", "content": "Plan mode is on."}),
    ("openai_responses", "openai", "gpt-4o", lambda b: b["instructions"] == "You are Claude Code."
        and b["input"][2] == {"type": "message", "role": "developer", "content": "Plan mode is on."}),
    ("anthropic", "anthropic", "claude-sonnet-4-5", lambda b: b["system"] == [
        {"type": "text", "text": "You are Claude Code."}, {"type": "text", "text": "Plan mode is on."}]
        and [m["role"] for m in b["messages"]] == ["user", "assistant", "user"]),
    ("bedrock_converse", "bedrock", "amazon.nova-pro-v1:0", lambda b: b["system"] == [
        {"text": "You are Claude Code."}, {"text": "Plan mode is on."}] and len(b["messages"]) == 3),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("wire", "provider", "model", "check"), SYSTEM_TURNS,
                         ids=[f"{c[0]}-{c[1]}" for c in SYSTEM_TURNS])
def test_system_turns_inside_anthropic_messages(wire: str, provider: str, model: str, check: Any,
                                                stream: bool) -> None:
    body, notes = convert("anthropic", CLAUDE_CODE, provider, model, stream, wire)
    assert check(body), body
    assert notes == []


def test_system_turn_with_a_non_text_block_is_a_400() -> None:
    from vmx_app.gateway.types import InvalidRequest

    with pytest.raises(InvalidRequest, match=r"messages\[0\].content\[0\]"):
        registry.parse_endpoint_request("anthropic", {"model": "r", "max_tokens": 5, "messages": [
            {"role": "system", "content": [{"type": "image", "source": {}}]}]})


# ---- 2. thinking / reasoning only for models that reason -------------------------------------------------

REASONING = [  # (endpoint, request fields, wire, provider, model, expected (key, value) or None when dropped)
    ("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai_chat", "openai", "gpt-4o",
     None),
    ("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai_chat", "openai", "o3",
     ("reasoning_effort", "medium")),
    ("anthropic", {"messages": [USER], "thinking": {"type": "enabled", "budget_tokens": 20000}}, "openai_chat",
     "openai", "gpt-5-mini", ("reasoning_effort", "high")),
    ("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai_chat", "groq",
     "llama-3.3-70b-versatile", None),
    ("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai_responses", "openai", "gpt-4.1",
     None),
    ("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai_responses", "openai", "o4-mini",
     ("reasoning", {"effort": "medium"})),
    ("chat", {"messages": [USER], "reasoning_effort": "high"}, "anthropic", "anthropic", "claude-3-5-haiku-latest",
     None),
    ("chat", {"messages": [USER], "reasoning_effort": "high"}, "anthropic", "anthropic", "claude-sonnet-4-5",
     ("thinking", {"type": "enabled", "budget_tokens": 24576})),
    ("responses", {"input": "hi", "reasoning": {"effort": "low"}}, "openai_chat", "openai", "gpt-4o-mini", None),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("endpoint", "fields", "wire", "provider", "model", "expected"), REASONING,
                         ids=[f"{c[0]}-{c[4]}" for c in REASONING])
def test_reasoning_goes_only_to_models_that_reason(endpoint: str, fields: dict[str, Any], wire: str,
                                                   provider: str, model: str, expected: Any, stream: bool) -> None:
    body, notes = convert(endpoint, fields, provider, model, stream, wire)
    keys = ("reasoning_effort", "reasoning", "thinking")
    if expected is None:
        assert not any(k in body for k in keys), body
        assert len(notes) == 1 and model in notes[0] and "does not reason" in notes[0]
    else:
        assert body[expected[0]] == expected[1] and notes == []


@pytest.mark.parametrize(("catalog", "override", "reasoning"), [
    (None, None, False),
    (ModelCapabilities(reasoning=True), None, True),  # the catalog knows better than the name
    (ModelCapabilities(reasoning=True), ModelCapabilities(reasoning=False), False),  # the connection wins
    (None, ModelCapabilities(reasoning=True), True),
])
def test_capabilities_catalog_then_connection_override(catalog: Any, override: Any, reasoning: bool) -> None:
    caps = resolve_caps("openai-compatible", "my-finetune", catalog, override)
    body, notes = convert("anthropic", {"messages": [USER], "thinking": {"type": "adaptive"}}, "openai-compatible",
                          "my-finetune", False, "openai_chat", caps)
    assert ("reasoning_effort" in body) is reasoning and bool(notes) is not reasoning


@pytest.mark.parametrize(("provider", "model", "reasoning", "structured"), [
    ("openai", "gpt-4o", False, True), ("openai", "o3-mini", True, True),
    ("openai", "gpt-5-chat-latest", False, True), ("openai", "gpt-5.1", True, True),
    ("gemini", "gemini-2.5-flash", True, True), ("groq", "qwen/qwen3-32b", True, True),
    ("anthropic", "claude-3-5-haiku-latest", False, False), ("anthropic", "claude-3-7-sonnet-latest", True, False),
    ("anthropic", "claude-opus-4-20250514", True, False), ("anthropic", "claude-opus-4-1", True, True),
    ("anthropic", "claude-sonnet-4-5-20250929", True, True), ("anthropic", "claude-haiku-4-5", True, True),
    ("bedrock-invoke", "anthropic.claude-3-haiku-20240307-v1:0", False, False),
])
def test_name_based_guess(provider: str, model: str, reasoning: bool, structured: bool) -> None:
    assert guess_caps(provider, model) == ModelCaps(reasoning, structured)


# ---- 4. OpenAI structured output to Anthropic -------------------------------------------------------------

CHAT_SCHEMA = {"messages": [USER], "response_format": {"type": "json_schema", "json_schema": {
    "name": "weather", "schema": SCHEMA, "strict": True}}}
RESPONSES_SCHEMA = {"input": "hi", "text": {"format": {"type": "json_schema", "name": "weather", "schema": SCHEMA,
                                                       "strict": True}}}
FORCED = {"type": "tool", "name": STRUCTURED_TOOL}

TO_ANTHROPIC = [  # (endpoint, fields, model, output_config.format or None, forced tool schema or None, notes)
    ("chat", CHAT_SCHEMA, "claude-sonnet-4-5", {"type": "json_schema", "schema": SCHEMA}, None, 0),
    ("responses", RESPONSES_SCHEMA, "claude-sonnet-4-5", {"type": "json_schema", "schema": SCHEMA}, None, 0),
    ("chat", CHAT_SCHEMA, "claude-3-5-haiku-latest", None, SCHEMA, 0),
    ("chat", {"messages": [USER], "response_format": {"type": "json_object"}}, "claude-sonnet-4-5", None,
     {"type": "object"}, 0),
    ("responses", {"input": "hi", "text": {"format": {"type": "json_object"}}}, "claude-haiku-4-5", None,
     {"type": "object"}, 0),
    ("chat", {**CHAT_SCHEMA, "reasoning_effort": "low"}, "claude-3-7-sonnet-latest", None, SCHEMA, 1),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("endpoint", "fields", "model", "fmt", "tool_schema", "n_notes"), TO_ANTHROPIC,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(TO_ANTHROPIC)])
def test_openai_structured_output_to_anthropic(endpoint: str, fields: dict[str, Any], model: str, fmt: Any,
                                               tool_schema: Any, n_notes: int, stream: bool) -> None:
    body, notes = convert(endpoint, fields, "anthropic", model, stream)
    if fmt is not None:
        assert body["output_config"] == {"format": fmt} and "tools" not in body
    else:
        assert "output_config" not in body and body["tool_choice"] == FORCED
        assert body["tools"][-1]["name"] == STRUCTURED_TOOL and body["tools"][-1]["input_schema"] == tool_schema
    assert len(notes) == n_notes and "thinking" not in body  # a forced tool excludes thinking: said, not hidden


def test_structured_output_tool_beside_client_tools_is_offered_not_forced() -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": LOOSE}}]
    body, _ = convert("chat", {**CHAT_SCHEMA, "tools": tools}, "anthropic", "claude-3-5-haiku-latest", False)
    assert [t["name"] for t in body["tools"]] == ["get_weather", STRUCTURED_TOOL] and "tool_choice" not in body


# ---- 5. Anthropic output_config to OpenAI -----------------------------------------------------------------

TO_OPENAI = [  # (output_config, wire, model, expected fields, notes)
    ({"format": {"type": "json_schema", "schema": SCHEMA}}, "openai_chat", "gpt-4o",
     {"response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": SCHEMA,
                                                                 "strict": True}}}, 0),
    ({"format": {"type": "json_schema", "schema": LOOSE}}, "openai_chat", "gpt-4o",
     {"response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": LOOSE,
                                                                 "strict": False}}}, 0),
    ({"format": {"type": "json_schema", "schema": SCHEMA}}, "openai_responses", "gpt-4o",
     {"text": {"format": {"type": "json_schema", "name": "output", "schema": SCHEMA, "strict": True}}}, 0),
    ({"effort": "high"}, "openai_chat", "o3", {"reasoning_effort": "high"}, 0),
    ({"effort": "max"}, "openai_chat", "gpt-5", {"reasoning_effort": "high"}, 0),
    ({"effort": "low"}, "openai_chat", "gpt-4o", {}, 1),
    ({"effort": "low", "format": {"type": "json_schema", "schema": SCHEMA}}, "openai_responses", "o4-mini",
     {"reasoning": {"effort": "low"}, "text": {"format": {"type": "json_schema", "name": "output",
                                                          "schema": SCHEMA, "strict": True}}}, 0),
]


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("config", "wire", "model", "expected", "n_notes"), TO_OPENAI,
                         ids=[f"{c[1]}-{c[2]}-{i}" for i, c in enumerate(TO_OPENAI)])
def test_anthropic_output_config_to_openai(config: dict[str, Any], wire: str, model: str,
                                           expected: dict[str, Any], n_notes: int, stream: bool) -> None:
    body, notes = convert("anthropic", {"messages": [USER], "output_config": config}, "openai", model, stream, wire)
    for key, value in expected.items():
        assert body[key] == value, body
    assert not {"reasoning_effort", "reasoning", "response_format", "text"} - set(expected) & set(body)
    assert len(notes) == n_notes and "output_config" not in body


def test_anthropic_output_config_round_trips_to_anthropic() -> None:
    config = {"format": {"type": "json_schema", "schema": SCHEMA}, "effort": "medium"}
    body, _ = convert("anthropic", {"messages": [USER], "output_config": config,
                                    "thinking": {"type": "adaptive"}}, "anthropic", "claude-opus-4-5", False)
    assert body["output_config"] == config and body["thinking"] == {"type": "adaptive"} and "effort" not in body


@pytest.mark.parametrize("config", [{"format": {"type": "xml"}}, {"effort": "extreme"}, "fast"])
def test_malformed_output_config_is_a_400(config: Any) -> None:
    from vmx_app.gateway.types import InvalidRequest

    with pytest.raises(InvalidRequest, match="output_config"):
        registry.parse_endpoint_request("anthropic", {"model": "r", "max_tokens": 5, "messages": [USER],
                                                      "output_config": config})


def test_output_config_keys_without_a_counterpart_are_never_dropped() -> None:
    with pytest.raises(UnsupportedContent, match="output_config"):
        convert("anthropic", {"messages": [USER], "output_config": {"task_budget": {"total": 5}}}, "openai",
                "gpt-4o", False)
