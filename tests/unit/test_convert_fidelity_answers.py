"""Issue 12, answer side, table-driven: structured output comes back where each client's `.parse()`
reads it (chat `message.content`, Responses `output_text`, an Anthropic text block), from the native
structured output and from the forced-tool fallback, non-streaming and streaming."""

from __future__ import annotations

import json
from typing import Any

import pytest

from vmx_app.gateway.convert import registry
from vmx_app.gateway.convert.common import STRUCTURED_TOOL

ANSWER = {"city": "Paris", "temp": 21.5}
ANSWER_JSON = json.dumps(ANSWER)


def same_json(got: str, text: str | None) -> bool:
    """The forced tool's arguments come back as JSON text (spacing is the serialiser's)."""
    return got == "" if text is None else json.loads(got) == json.loads(text)
USAGE = {"input_tokens": 10, "output_tokens": 7}


def anthropic_message(blocks: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "content": blocks,
            "stop_reason": stop, "stop_sequence": None, "usage": USAGE}


def anthropic_events(blocks: list[dict[str, Any]], stop: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {**anthropic_message([], stop),
                                                                           "stop_reason": None}}]
    for i, block in enumerate(blocks):
        if block["type"] == "tool_use":
            events.append({"type": "content_block_start", "index": i, "content_block": {**block, "input": {}}})
            raw = json.dumps(block["input"])
            events += [{"type": "content_block_delta", "index": i,
                        "delta": {"type": "input_json_delta", "partial_json": raw[j:j + 7]}}
                       for j in range(0, len(raw), 7)]
        else:
            events.append({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}})
            events.append({"type": "content_block_delta", "index": i,
                           "delta": {"type": "text_delta", "text": block["text"]}})
        events.append({"type": "content_block_stop", "index": i})
    events.append({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": USAGE})
    events.append({"type": "message_stop"})
    return events


def sse_data(chunks: list[bytes]) -> list[dict[str, Any]]:
    out = []
    for line in b"".join(chunks).decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            out.append(json.loads(line[6:]))
    return out


def streamed(wire: str, events: list[Any], endpoint: str) -> list[dict[str, Any]]:
    parser = registry.provider_stream_parser(wire, "m")
    req = registry.parse_endpoint_request(endpoint, {"model": "res", "input": "hi"} if endpoint == "openai_responses"
                                          else {"model": "res", "messages": [{"role": "user", "content": "hi"}],
                                                "max_tokens": 50})
    renderer = registry.endpoint_stream_renderer(endpoint, "res", req)
    chunks = [b for ev in events for e in parser.feed(ev) for b in renderer.render(e)]
    chunks += [b for e in parser.finish() for b in renderer.render(e)]
    return sse_data(chunks)


FORCED_TOOL = [{"type": "tool_use", "id": "toolu_1", "name": STRUCTURED_TOOL, "input": ANSWER}]
NATIVE = [{"type": "text", "text": ANSWER_JSON}]
CLIENT_TOOL = [{"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Paris"}}]

# (case, Anthropic blocks, stop_reason, expected text, expected client tool calls)
FROM_ANTHROPIC = [
    ("forced tool", FORCED_TOOL, "tool_use", ANSWER_JSON, 0),
    ("native output_config", NATIVE, "end_turn", ANSWER_JSON, 0),
    ("client tool beside it", CLIENT_TOOL, "tool_use", None, 1),
]
IDS = [c[0] for c in FROM_ANTHROPIC]


def _chat_message(body: dict[str, Any]) -> tuple[str | None, int, str]:
    choice = body["choices"][0]
    return choice["message"]["content"], len(choice["message"].get("tool_calls") or []), choice["finish_reason"]


@pytest.mark.parametrize(("case", "blocks", "stop", "text", "calls"), FROM_ANTHROPIC, ids=IDS)
def test_anthropic_answer_to_chat(case: str, blocks: list[dict[str, Any]], stop: str, text: str | None,
                                  calls: int) -> None:
    resp = registry.parse_provider_response("anthropic", anthropic_message(blocks, stop))
    content, n_calls, finish = _chat_message(registry.render_endpoint_response("openai_chat", resp))
    assert same_json(content or "", text) and n_calls == calls and finish == ("tool_calls" if calls else "stop")


@pytest.mark.parametrize(("case", "blocks", "stop", "text", "calls"), FROM_ANTHROPIC, ids=IDS)
def test_anthropic_stream_to_chat_stream(case: str, blocks: list[dict[str, Any]], stop: str, text: str | None,
                                         calls: int) -> None:
    chunks = [c for c in streamed("anthropic", anthropic_events(blocks, stop), "openai_chat") if c.get("choices")]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert same_json("".join(d.get("content") or "" for d in deltas), text)
    assert sum(1 for d in deltas for t in d.get("tool_calls") or [] if t.get("id")) == calls
    assert chunks[-1]["choices"][0]["finish_reason"] == ("tool_calls" if calls else "stop")


@pytest.mark.parametrize(("case", "blocks", "stop", "text", "calls"), FROM_ANTHROPIC, ids=IDS)
def test_anthropic_answer_to_responses(case: str, blocks: list[dict[str, Any]], stop: str, text: str | None,
                                       calls: int) -> None:
    resp = registry.parse_provider_response("anthropic", anthropic_message(blocks, stop))
    body = registry.render_endpoint_response("openai_responses", resp)
    output_text = "".join(c["text"] for item in body["output"] if item["type"] == "message" for c in item["content"])
    assert same_json(output_text, text)
    assert sum(1 for item in body["output"] if item["type"] == "function_call") == calls


@pytest.mark.parametrize(("case", "blocks", "stop", "text", "calls"), FROM_ANTHROPIC, ids=IDS)
def test_anthropic_stream_to_responses_stream(case: str, blocks: list[dict[str, Any]], stop: str, text: str | None,
                                              calls: int) -> None:
    events = streamed("anthropic", anthropic_events(blocks, stop), "openai_responses")
    assert same_json("".join(e["delta"] for e in events if e["type"] == "response.output_text.delta"), text)
    done = next(e for e in events if e["type"] == "response.completed")["response"]
    assert sum(1 for item in done["output"] if item["type"] == "function_call") == calls


# ---- OpenAI answers to Anthropic clients (output_config.format -> response_format) -------------------------

def chat_completion(content: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o", "choices": [{
        "index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17}}


def chat_chunks(content: str) -> list[dict[str, Any]]:
    base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o"}
    pieces = [content[i:i + 6] for i in range(0, len(content), 6)]
    return [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
            *({**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces),
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17}}]


@pytest.mark.parametrize("stream", [False, True])
def test_openai_json_answer_reaches_anthropic_client_as_a_text_block(stream: bool) -> None:
    if stream:
        events = streamed("openai_chat", chat_chunks(ANSWER_JSON), "anthropic")
        text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
        stop = next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"]
    else:
        body = registry.render_endpoint_response(
            "anthropic", registry.parse_provider_response("openai_chat", chat_completion(ANSWER_JSON)))
        assert [b["type"] for b in body["content"]] == ["text"]
        text, stop = body["content"][0]["text"], body["stop_reason"]
    assert json.loads(text) == ANSWER and stop == "end_turn"
