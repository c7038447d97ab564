"""Usage read on the pass-through path, and the stream parsers' provider quirks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.test_convert_cases import PROVIDER_RESPONSES
from tests.unit.test_convert_stream_cases import PROVIDER_STREAMS
from vmx_app.gateway.convert.openai_chat_stream import ChatStreamParser, ChatStreamRenderer
from vmx_app.gateway.convert.usage import usage_from_passthrough
from vmx_app.gateway.types import (
    BlockStop,
    MessageDelta,
    MessageStart,
    MessageStop,
    StopReason,
    TextDelta,
    ToolArgsDelta,
    ToolCallStart,
    Usage,
)

FULL = Usage(input=20, output=5, cached_input=8, reasoning=2, total=25)


@pytest.mark.parametrize("wire", ["openai_chat", "openai_responses", "anthropic", "bedrock_converse"])
def test_usage_from_passthrough_bodies(wire: str) -> None:
    usage = usage_from_passthrough(wire, copy.deepcopy(PROVIDER_RESPONSES[(wire, "text")]))
    reasoning = 2 if wire.startswith("openai") else 0
    assert usage == Usage(input=20, output=5, cached_input=8, reasoning=reasoning, total=25)


@pytest.mark.parametrize("wire", ["openai_chat", "openai_responses", "anthropic", "bedrock_converse"])
def test_usage_from_passthrough_streams(wire: str) -> None:
    total: Usage | None = None
    for event in PROVIDER_STREAMS[(wire, "text")]:
        data = event[1] if isinstance(event, tuple) else event
        found = usage_from_passthrough(wire, data)
        total = found.merged(total) if found else total
    assert total is not None
    assert (total.input, total.output, total.cached_input, total.total) == (20, 5, 8, 25)


def test_usage_none_when_event_has_none() -> None:
    assert usage_from_passthrough("openai_chat", {"choices": [{"delta": {"content": "x"}}], "usage": None}) is None
    assert usage_from_passthrough("anthropic", {"type": "content_block_stop", "index": 0}) is None
    assert usage_from_passthrough("openai_responses", {"type": "response.output_text.delta", "delta": "x"}) is None
    assert usage_from_passthrough("bedrock_converse", {"contentBlockStop": {"contentBlockIndex": 0}}) is None
    with pytest.raises(ValueError):
        usage_from_passthrough("cohere", {})


def test_anthropic_cache_writes_and_bedrock_invoke_metrics() -> None:
    usage = usage_from_passthrough("anthropic", {"usage": {
        "input_tokens": 10, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 7}})
    assert usage == Usage(input=160, output=7, cached_input=50, cache_write_input=100, total=167)
    metrics = usage_from_passthrough("anthropic", {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
        "inputTokenCount": 10, "outputTokenCount": 7, "cacheReadInputTokenCount": 50}})
    assert metrics == Usage(input=60, output=7, cached_input=50, total=67)


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **top: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "model": "sonar", "choices": choices, **top}


def test_perplexity_stream_usage_on_every_chunk_and_citations() -> None:
    parser = ChatStreamParser()
    cites = {"citations": ["https://a.test"], "search_results": [{"title": "A", "url": "https://a.test"}]}
    u = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    events = parser.feed(_chunk({"role": "assistant", "content": "Hi"}, usage=u, **cites))
    events += parser.feed(_chunk({}, "stop", usage={**u, "completion_tokens": 2, "total_tokens": 5}, **cites))
    assert [type(e) for e in events] == [MessageStart, TextDelta, BlockStop, MessageDelta, MessageStop]
    assert events[3].usage == Usage(input=3, output=2, total=5) and events[3].extra == cites
    assert parser.finish() == []
    renderer = ChatStreamRenderer("r")
    out = b"".join(b for e in events for b in renderer.render(e))
    assert b'"citations":["https://a.test"]' in out and out.endswith(b"data: [DONE]\n\n")


def test_usage_less_provider_is_closed_by_finish() -> None:
    parser = ChatStreamParser("local-llama")
    events = parser.feed(_chunk({"content": "Hi"})) + parser.feed(_chunk({}, "length"))
    assert not any(isinstance(e, MessageStop) for e in events)
    tail = parser.finish()
    assert isinstance(tail[0], MessageDelta) and tail[0].stop_reason is StopReason.MAX_TOKENS
    assert tail[0].usage is None and isinstance(tail[1], MessageStop)


def test_parallel_tool_calls_get_their_own_blocks() -> None:
    parser = ChatStreamParser()
    events = parser.feed(_chunk({"tool_calls": [
        {"index": 0, "id": "a", "function": {"name": "w", "arguments": "{\"c\":1}"}},
        {"index": 1, "id": "b", "function": {"name": "w", "arguments": "{\"c\":2}"}}]}))
    events += parser.feed(_chunk({}, "stop"))  # Gemini reports "stop" after tool calls
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    args = [e for e in events if isinstance(e, ToolArgsDelta)]
    assert [(s.index, s.id) for s in starts] == [(0, "a"), (1, "b")]
    assert [(a.index, a.partial_json) for a in args] == [(0, "{\"c\":1}"), (1, "{\"c\":2}")]
    assert parser.finish()[0].stop_reason is StopReason.TOOL_USE


def test_chat_renderer_without_include_usage_has_no_usage_chunk() -> None:
    renderer = ChatStreamRenderer("r", include_usage=False)
    out = b"".join(b for e in [MessageStart("x", "m"), TextDelta(0, "Hi"), MessageDelta(StopReason.END_TURN, FULL),
                               MessageStop()] for b in renderer.render(e))
    assert b"usage" not in out and out.count(b"data: ") == 4
    with_usage = ChatStreamRenderer("r", include_usage=True)
    out = b"".join(b for e in [MessageStart("x", "m"), MessageDelta(StopReason.END_TURN, FULL), MessageStop()]
                   for b in with_usage.render(e))
    assert b'"choices":[],"usage":{"prompt_tokens":20' in out
