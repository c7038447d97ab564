"""Conversion table: every endpoint x provider family x {text, system, tools, image, stream, stream+tools},
through the engine and the real adapters to the fake upstream, checking what the client gets back and
what reached the provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.upstream import FakeUpstream
from tests.unit.test_engine import Harness, sse_events

pytestmark = pytest.mark.usefixtures("close_adapters")  # fixtures: tests/unit/conftest.py

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SYSTEM = "You are terse and precise."
FAMILIES = {
    "openai": "gpt-4o",
    "gemini": "gemini-2.5-flash",
    "groq": "llama-3.3-70b-versatile",
    "perplexity": "sonar",
    "openai-compatible": "local-model",
    "anthropic": "claude-sonnet-4-5",
    "bedrock": "amazon.nova-pro-v1:0",
    "bedrock-invoke": "anthropic.claude-3-haiku-20240307-v1:0",
}
FEATURES = ("text", "system", "tools", "image", "stream", "stream_tools")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def request(endpoint: str, feature: str) -> dict[str, Any]:
    stream = feature.startswith("stream")
    tools = feature in ("tools", "stream_tools")
    text = "What's the weather in Paris?" if tools else ("echo-system" if feature == "system" else "hi there")
    if endpoint == "chat":
        content: Any = text
        if feature == "image":
            content = [{"type": "text", "text": "describe"},
                       {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]
        messages = [{"role": "user", "content": content}]
        if feature == "system":
            messages.insert(0, {"role": "system", "content": SYSTEM})
        body: dict[str, Any] = {"model": "res", "messages": messages}
        if tools:
            body["tools"] = [{"type": "function", "function": {"name": "get_weather", "description": "weather",
                                                               "parameters": WEATHER_SCHEMA}}]
    elif endpoint == "responses":
        inp: Any = text
        if feature == "image":
            inp = [{"role": "user", "content": [{"type": "input_text", "text": "describe"},
                                                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"}]}]
        body = {"model": "res", "input": inp}
        if feature == "system":
            body["instructions"] = SYSTEM
        if tools:
            body["tools"] = [{"type": "function", "name": "get_weather", "description": "weather",
                              "parameters": WEATHER_SCHEMA}]
    else:
        content = text
        if feature == "image":
            content = [{"type": "text", "text": "describe"},
                       {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}]
        body = {"model": "res", "max_tokens": 256, "messages": [{"role": "user", "content": content}]}
        if feature == "system":
            body["system"] = SYSTEM
        if tools:
            body["tools"] = [{"name": "get_weather", "description": "weather", "input_schema": WEATHER_SCHEMA}]
    if stream:
        body["stream"] = True
    return body


def extract(endpoint: str, stream: bool, raw: bytes) -> tuple[str, list[tuple[str, dict[str, Any]]], bool]:
    """(text, tool calls as (name, arguments), whether the answer ended cleanly) as a client sees them."""
    if not stream:
        body = json.loads(raw)
        if endpoint == "chat":
            msg = body["choices"][0]["message"]
            calls = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                     for c in msg.get("tool_calls") or []]
            return msg["content"] or "", calls, bool(body["choices"][0]["finish_reason"])
        if endpoint == "responses":
            return _responses_output(body)
        text = "".join(b["text"] for b in body["content"] if b["type"] == "text")
        calls = [(b["name"], b["input"]) for b in body["content"] if b["type"] == "tool_use"]
        return text, calls, body["stop_reason"] is not None
    events = sse_events(raw)
    if endpoint == "chat":
        text, args, names = "", {}, {}
        for _, data in events[:-1]:
            for choice in data["choices"]:
                delta = choice["delta"]
                text += delta.get("content") or ""
                for call in delta.get("tool_calls") or []:
                    if call.get("function", {}).get("name"):
                        names[call["index"]] = call["function"]["name"]
                    args[call["index"]] = args.get(call["index"], "") + call.get("function", {}).get("arguments", "")
        calls = [(names[i], json.loads(args[i])) for i in sorted(names)]
        return text, calls, events[-1][1] == "[DONE]"
    if endpoint == "responses":
        done = [d for n, d in events if n == "response.completed"]
        deltas = "".join(d["delta"] for n, d in events if n == "response.output_text.delta")
        if not done:
            return deltas, [], False
        text, calls, _ = _responses_output(done[0]["response"])
        assert deltas == text
        return text, calls, True
    text, blocks = "", {}
    for name, data in events:
        if name == "content_block_start":
            blocks[data["index"]] = {**data["content_block"], "json": ""}
        elif name == "content_block_delta":
            delta = data["delta"]
            if delta["type"] == "text_delta":
                text += delta["text"]
            elif delta["type"] == "input_json_delta":
                blocks[data["index"]]["json"] += delta["partial_json"]
    calls = [(b["name"], json.loads(b["json"] or "{}")) for b in blocks.values() if b["type"] == "tool_use"]
    return text, calls, events[-1][0] == "message_stop"


def _responses_output(body: dict[str, Any]) -> tuple[str, list[tuple[str, dict[str, Any]]], bool]:
    text, calls = "", []
    for item in body["output"]:
        if item["type"] == "message":
            text += "".join(p["text"] for p in item["content"] if p["type"] == "output_text")
        elif item["type"] == "function_call":
            calls.append((item["name"], json.loads(item["arguments"])))
    return text, calls, body["status"] == "completed"


@pytest.mark.parametrize("feature", FEATURES)
@pytest.mark.parametrize("provider", list(FAMILIES))
@pytest.mark.parametrize("endpoint", ["chat", "responses", "anthropic"])
async def test_conversion_table(fake_upstream: FakeUpstream, endpoint: str, provider: str, feature: str) -> None:
    fake_upstream.reset()
    h = Harness(fake_upstream)
    model = FAMILIES[provider]
    h.resource("res", h.slot(provider, model))
    stream = feature.startswith("stream")
    r = await h.call(endpoint, request(endpoint, feature))
    assert r.status == 200, r.body
    assert r.headers["x-vmx-provider"] == provider and r.headers["x-vmx-model"] == model
    text, calls, clean = extract(endpoint, stream, r.body)
    assert clean
    sent = fake_upstream.last_request
    if feature in ("tools", "stream_tools"):
        assert calls == [("get_weather", {"city": "Paris"})]
    elif feature == "system":
        assert text == SYSTEM
    else:
        assert text == f"Hello from {model}"
    if feature == "image":
        assert PNG.encode() in sent.raw
    rec = r.record
    assert rec is not None and rec.status_code == 200 and rec.stream is stream
    if not (stream and provider == "perplexity"):  # real Perplexity puts usage on every chunk; the fake
        assert rec.prompt_tokens > 0 and rec.completion_tokens > 0  # sends it only on include_usage
    assert rec.response_payload is not None
