"""Realistic client requests, provider responses and provider stream sequences shared by the
test_convert_* modules, plus the normalizers that read any provider body back into one summary."""

from __future__ import annotations

import json
from typing import Any

from vmx_app.gateway.convert import anthropic, openai_chat, openai_responses
from vmx_app.gateway.convert.anthropic_stream import AnthropicStreamRenderer
from vmx_app.gateway.convert.openai_chat_stream import ChatStreamRenderer
from vmx_app.gateway.convert.openai_responses_stream import ResponsesStreamRenderer
from vmx_app.gateway.types import CanonicalRequest

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
QUESTION = "What is the capital of France?"
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

ENDPOINTS = ("openai_chat", "openai_responses", "anthropic")
# (wire, connection provider): every provider family the gateway talks to.
PROVIDERS = (
    ("openai_chat", "openai"),
    ("openai_chat", "groq"),
    ("openai_chat", "gemini"),
    ("openai_chat", "perplexity"),
    ("openai_responses", "openai"),
    ("anthropic", "anthropic"),
    ("anthropic", "bedrock-invoke"),
    ("bedrock_converse", "bedrock"),
)
SCENARIOS = ("text", "system", "image", "tools", "stream")

CHAT_REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"model": "my-resource", "messages": [{"role": "user", "content": QUESTION}],
             "max_tokens": 256, "temperature": 0.2, "top_p": 0.9},
    "system": {"model": "my-resource", "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "content": QUESTION}]},
    "image": {"model": "my-resource", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}]},
    "tools": {
        "model": "my-resource",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                                     "parameters": WEATHER_SCHEMA}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "parallel_tool_calls": False,
    },
    "stream": {"model": "my-resource", "messages": [{"role": "user", "content": QUESTION}], "stream": True,
               "stream_options": {"include_usage": True}},
}

RESPONSES_REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"model": "my-resource", "input": QUESTION, "max_output_tokens": 256, "temperature": 0.2, "top_p": 0.9},
    "system": {"model": "my-resource", "instructions": "You are terse.", "input": [
        {"role": "developer", "content": "Answer in French."},
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]}]},
    "image": {"model": "my-resource", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is in this image?"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "auto"}]}]},
    "tools": {
        "model": "my-resource",
        "input": [
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
             "arguments": "{\"city\": \"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C and sunny"},
        ],
        "tools": [{"type": "function", "name": "get_weather", "description": "Current weather",
                   "parameters": WEATHER_SCHEMA}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
    },
    "stream": {"model": "my-resource", "input": QUESTION, "stream": True},
}

ANTHROPIC_REQUESTS: dict[str, dict[str, Any]] = {
    "text": {"model": "my-resource", "max_tokens": 256, "temperature": 0.2, "top_p": 0.9,
             "messages": [{"role": "user", "content": QUESTION}]},
    "system": {"model": "my-resource", "max_tokens": 1024,
               "system": [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Answer in French."}],
               "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}]},
    "image": {"model": "my-resource", "max_tokens": 1024, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]}]},
    "tools": {
        "model": "my-resource", "max_tokens": 1024,
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C and sunny"}]},
        ],
        "tools": [{"name": "get_weather", "description": "Current weather", "input_schema": WEATHER_SCHEMA}],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    },
    "stream": {"model": "my-resource", "max_tokens": 1024, "stream": True,
               "messages": [{"role": "user", "content": QUESTION}]},
}

CLIENT_REQUESTS = {"openai_chat": CHAT_REQUESTS, "openai_responses": RESPONSES_REQUESTS,
                   "anthropic": ANTHROPIC_REQUESTS}
PARSERS = {"openai_chat": openai_chat.parse_request, "openai_responses": openai_responses.parse_request,
           "anthropic": anthropic.parse_request}


def renderer_for(endpoint: str, req: CanonicalRequest | None = None) -> Any:
    if endpoint == "openai_chat":
        return ChatStreamRenderer("my-resource", include_usage=True)
    if endpoint == "openai_responses":
        return ResponsesStreamRenderer("my-resource", req)
    return AnthropicStreamRenderer("my-resource")


# ---------------------------------------------------------------- provider bodies -> one summary


def _summary() -> dict[str, Any]:
    return {"system": "", "turns": [], "images": [], "tools": [], "tool_calls": [], "tool_results": [],
            "tool_choice": None, "max_tokens": None, "temperature": None, "top_p": None, "stream": False}


def _turn(s: dict[str, Any], role: str, kinds: list[str]) -> None:
    if kinds and all(k == "tool_result" for k in kinds):
        role = "tool"
    s["turns"].append((role, kinds))


def summarize_chat(body: dict[str, Any]) -> dict[str, Any]:
    s = _summary()
    for m in body["messages"]:
        content = m.get("content")
        if m["role"] == "system":
            s["system"] = content
            continue
        if m["role"] == "tool":
            s["tool_results"].append((m["tool_call_id"], content))
            _turn(s, "tool", ["tool_result"])
            continue
        kinds = []
        for p in [{"type": "text", "text": content}] if isinstance(content, str) else content or []:
            kinds.append("image" if p["type"] == "image_url" else "text")
            if p["type"] == "image_url":
                mt, data = p["image_url"]["url"][5:].split(";base64,")
                s["images"].append((mt, data))
        for c in m.get("tool_calls") or []:
            kinds.append("tool_call")
            s["tool_calls"].append((c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])))
        _turn(s, m["role"], kinds)
    s["tools"] = [t["function"]["name"] for t in body.get("tools") or []]
    tc = body.get("tool_choice")
    s["tool_choice"] = ("tool", tc["function"]["name"]) if isinstance(tc, dict) else tc
    s["max_tokens"] = body.get("max_completion_tokens") or body.get("max_tokens")
    s.update(temperature=body.get("temperature"), top_p=body.get("top_p"), stream=bool(body.get("stream")))
    return s


def summarize_responses(body: dict[str, Any]) -> dict[str, Any]:
    s = _summary()
    s["system"] = body.get("instructions") or ""
    for item in body["input"]:
        kind = item.get("type", "message")
        if kind == "function_call":
            s["tool_calls"].append((item["call_id"], item["name"], json.loads(item["arguments"])))
            _turn(s, "assistant", ["tool_call"])
        elif kind == "function_call_output":
            s["tool_results"].append((item["call_id"], item["output"]))
            _turn(s, "tool", ["tool_result"])
        else:
            content = item["content"]
            parts = [{"type": "input_text", "text": content}] if isinstance(content, str) else content
            for p in parts:
                if p["type"] == "input_image":
                    mt, data = p["image_url"][5:].split(";base64,")
                    s["images"].append((mt, data))
            _turn(s, item["role"], ["image" if p["type"] == "input_image" else "text" for p in parts])
    s["tools"] = [t["name"] for t in body.get("tools") or []]
    tc = body.get("tool_choice")
    s["tool_choice"] = ("tool", tc["name"]) if isinstance(tc, dict) else tc
    s.update(max_tokens=body.get("max_output_tokens"), temperature=body.get("temperature"),
             top_p=body.get("top_p"), stream=bool(body.get("stream")))
    return s


def summarize_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    s = _summary()
    system = body.get("system") or ""
    s["system"] = system if isinstance(system, str) else "\n\n".join(b["text"] for b in system)
    names = {"text": "text", "image": "image", "tool_use": "tool_call", "tool_result": "tool_result"}
    for m in body["messages"]:
        blocks = [{"type": "text", "text": m["content"]}] if isinstance(m["content"], str) else m["content"]
        for b in blocks:
            if b["type"] == "image":
                s["images"].append((b["source"]["media_type"], b["source"]["data"]))
            elif b["type"] == "tool_use":
                s["tool_calls"].append((b["id"], b["name"], b["input"]))
            elif b["type"] == "tool_result":
                content = b["content"]
                text = content if isinstance(content, str) else "".join(c["text"] for c in content)
                s["tool_results"].append((b["tool_use_id"], text))
        _turn(s, m["role"], [names[b["type"]] for b in blocks])
    s["tools"] = [t["name"] for t in body.get("tools") or []]
    tc = body.get("tool_choice")
    if tc:
        mode = {"any": "required"}.get(tc["type"], tc["type"])
        s["tool_choice"] = ("tool", tc["name"]) if tc["type"] == "tool" else mode
    s.update(max_tokens=body.get("max_tokens"), temperature=body.get("temperature"), top_p=body.get("top_p"),
             stream=bool(body.get("stream")))
    return s


def summarize_converse(body: dict[str, Any]) -> dict[str, Any]:
    s = _summary()
    s["system"] = "\n\n".join(b["text"] for b in body.get("system") or [] if "text" in b)
    media = {"png": "image/png", "jpeg": "image/jpeg"}
    for m in body["messages"]:
        kinds = []
        for b in m["content"]:
            if "text" in b:
                kinds.append("text")
            elif "image" in b:
                kinds.append("image")
                s["images"].append((media[b["image"]["format"]], b["image"]["source"]["bytes"]))
            elif "toolUse" in b:
                kinds.append("tool_call")
                u = b["toolUse"]
                s["tool_calls"].append((u["toolUseId"], u["name"], u["input"]))
            elif "toolResult" in b:
                kinds.append("tool_result")
                r = b["toolResult"]
                s["tool_results"].append((r["toolUseId"], "".join(c["text"] for c in r["content"])))
        _turn(s, m["role"], kinds)
    config = body.get("toolConfig") or {}
    s["tools"] = [t["toolSpec"]["name"] for t in config.get("tools") or [] if "toolSpec" in t]
    tc = config.get("toolChoice")
    if tc:
        s["tool_choice"] = ("tool", tc["tool"]["name"]) if "tool" in tc else {"any": "required"}.get(next(iter(tc)))
    inference = body.get("inferenceConfig") or {}
    s.update(max_tokens=inference.get("maxTokens"), temperature=inference.get("temperature"),
             top_p=inference.get("topP"))
    return s


SUMMARIZERS = {"openai_chat": summarize_chat, "openai_responses": summarize_responses,
               "anthropic": summarize_anthropic, "bedrock_converse": summarize_converse}


# ---------------------------------------------------------------- provider responses (non-streaming)
# Every "text" body says "Paris." after some reasoning; every "tools" body calls get_weather(Paris).
# Usage everywhere: 20 input tokens (8 from cache), 5 output tokens.

PROVIDER_RESPONSES: dict[tuple[str, str], dict[str, Any]] = {
    ("openai_chat", "text"): {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Paris.", "reasoning_content": "France -> Paris"}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25,
                  "prompt_tokens_details": {"cached_tokens": 8}, "completion_tokens_details": {"reasoning_tokens": 2}},
    },
    ("openai_chat", "tools"): {
        "id": "chatcmpl-2", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {
                "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25,
                  "prompt_tokens_details": {"cached_tokens": 8}},
    },
    ("openai_responses", "text"): {
        "id": "resp_1", "object": "response", "created_at": 1700000000, "status": "completed", "model": "o4-mini",
        "output": [
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "France -> Paris"}],
             "encrypted_content": "gAAAAenc"},
            {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
             "content": [{"type": "output_text", "text": "Paris.", "annotations": []}]}],
        "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 5,
                  "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 25},
    },
    ("openai_responses", "tools"): {
        "id": "resp_2", "object": "response", "created_at": 1700000000, "status": "completed", "model": "gpt-4.1",
        "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
                    "arguments": "{\"city\": \"Paris\"}", "status": "completed"}],
        "usage": {"input_tokens": 20, "input_tokens_details": {"cached_tokens": 8}, "output_tokens": 5,
                  "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 25},
    },
    ("anthropic", "text"): {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "thinking", "thinking": "France -> Paris", "signature": "sig-1"},
                    {"type": "text", "text": "Paris."}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 12, "cache_read_input_tokens": 8, "cache_creation_input_tokens": 0,
                  "output_tokens": 5},
    },
    ("anthropic", "tools"): {
        "id": "msg_2", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}],
        "stop_reason": "tool_use", "stop_sequence": None,
        "usage": {"input_tokens": 12, "cache_read_input_tokens": 8, "output_tokens": 5},
    },
    ("bedrock_converse", "text"): {
        "output": {"message": {"role": "assistant", "content": [
            {"reasoningContent": {"reasoningText": {"text": "France -> Paris", "signature": "sig-1"}}},
            {"text": "Paris."}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 25, "cacheReadInputTokens": 8},
        "metrics": {"latencyMs": 420},
    },
    ("bedrock_converse", "tools"): {
        "output": {"message": {"role": "assistant", "content": [
            {"toolUse": {"toolUseId": "call_1", "name": "get_weather", "input": {"city": "Paris"}}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 25, "cacheReadInputTokens": 8},
    },
}

WIRES = ("openai_chat", "openai_responses", "anthropic", "bedrock_converse")
