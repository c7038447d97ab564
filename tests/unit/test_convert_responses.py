"""Provider response (4 wires) -> canonical -> endpoint body (3 shapes), validated by the official SDK types."""

from __future__ import annotations

import copy
import json
from typing import Any

import anthropic.types as at
import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from tests.unit.test_convert_cases import CLIENT_REQUESTS, PARSERS, PROVIDER_RESPONSES, WIRES
from vmx_app.gateway.convert import anthropic, openai_chat, openai_responses
from vmx_app.gateway.convert.registry import parse_provider_response, render_endpoint_response
from vmx_app.gateway.types import StopReason, ThinkingPart


def _render(endpoint: str, wire: str, scenario: str) -> Any:
    resp = parse_provider_response(wire, copy.deepcopy(PROVIDER_RESPONSES[(wire, scenario)]), model="m")
    req = PARSERS[endpoint](copy.deepcopy(CLIENT_REQUESTS[endpoint]["tools" if scenario == "tools" else "text"]))
    body = render_endpoint_response(endpoint, resp, req)
    json.dumps(body)  # plain JSON all the way down
    if endpoint == "openai_chat":
        return ChatCompletion.model_validate(body)
    if endpoint == "openai_responses":
        return Response.model_validate(body)
    return at.Message.model_validate(body)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("endpoint", ["openai_chat", "openai_responses", "anthropic"])
def test_text_response(endpoint: str, wire: str) -> None:
    out = _render(endpoint, wire, "text")
    reasoning_reported = wire in ("openai_chat", "openai_responses")
    if isinstance(out, ChatCompletion):
        msg = out.choices[0].message
        assert (msg.content, out.choices[0].finish_reason) == ("Paris.", "stop")
        assert msg.model_extra["reasoning_content"] == "France -> Paris"
        u = out.usage
        assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (20, 5, 25)
        assert u.prompt_tokens_details.cached_tokens == 8
        assert u.completion_tokens_details.reasoning_tokens == (2 if reasoning_reported else 0)
    elif isinstance(out, Response):
        assert (out.output_text, out.status) == ("Paris.", "completed")
        assert out.output[0].type == "reasoning" and out.output[0].summary[0].text == "France -> Paris"
        u = out.usage
        assert (u.input_tokens, u.output_tokens, u.total_tokens, u.input_tokens_details.cached_tokens) == (20, 5, 25, 8)
        assert (out.tools, out.temperature, out.max_output_tokens) == ([], 0.2, 256)  # request echoed
    else:
        assert [b.type for b in out.content] == ["thinking", "text"]
        assert out.content[1].text == "Paris." and out.stop_reason == "end_turn"
        assert out.content[0].thinking == "France -> Paris"
        u = out.usage
        assert (u.input_tokens, u.cache_read_input_tokens, u.output_tokens) == (12, 8, 5)


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("endpoint", ["openai_chat", "openai_responses", "anthropic"])
def test_tool_call_response(endpoint: str, wire: str) -> None:
    out = _render(endpoint, wire, "tools")
    if isinstance(out, ChatCompletion):
        call = out.choices[0].message.tool_calls[0]
        assert out.choices[0].finish_reason == "tool_calls"
        assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
            "call_1", "get_weather", {"city": "Paris"})
    elif isinstance(out, Response):
        call = next(i for i in out.output if i.type == "function_call")
        assert (call.call_id, call.name, json.loads(call.arguments)) == ("call_1", "get_weather", {"city": "Paris"})
        assert out.tool_choice.name == "get_weather" and out.parallel_tool_calls is False
    else:
        block = next(b for b in out.content if b.type == "tool_use")
        assert (block.id, block.name, block.input, out.stop_reason) == ("call_1", "get_weather", {"city": "Paris"},
                                                                        "tool_use")


def test_signatures_survive_to_the_endpoints_that_can_carry_them() -> None:
    resp = anthropic.parse_response(copy.deepcopy(PROVIDER_RESPONSES[("anthropic", "text")]))
    chat = openai_chat.render_response(resp)["choices"][0]["message"]
    assert chat["thinking_blocks"] == [{"type": "thinking", "thinking": "France -> Paris", "signature": "sig-1"}]
    item = openai_responses.render_response(resp)["output"][0]
    assert item["id"].startswith("rs_vmx_") and item["encrypted_content"] == "sig-1"
    # The client sends that item back: it must reach Claude as signed thinking again.
    back = openai_responses.parse_request({"model": "r", "input": [item, {"role": "user", "content": "more"}]})
    claude = anthropic.build_request(back, "claude")
    assert claude["messages"][0]["content"][0] == {"type": "thinking", "thinking": "France -> Paris",
                                                   "signature": "sig-1"}


def test_openai_encrypted_reasoning_never_reaches_claude() -> None:
    resp = openai_responses.parse_response(copy.deepcopy(PROVIDER_RESPONSES[("openai_responses", "text")]))
    rendered = anthropic.render_response(resp)
    assert rendered["content"][0] == {"type": "thinking", "thinking": "France -> Paris", "signature": ""}
    back = anthropic.parse_request({"model": "r", "max_tokens": 10, "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": rendered["content"]},
        {"role": "user", "content": "more"}]})
    assert anthropic.build_request(back, "claude")["messages"][1]["content"] == [{"type": "text", "text": "Paris."}]


def test_perplexity_citations_are_kept() -> None:
    body = copy.deepcopy(PROVIDER_RESPONSES[("openai_chat", "text")])
    body["citations"] = ["https://en.wikipedia.org/wiki/Paris"]
    body["search_results"] = [{"title": "Paris", "url": "https://en.wikipedia.org/wiki/Paris"}]
    resp = openai_chat.parse_response(body)
    assert resp.extra["citations"] == ["https://en.wikipedia.org/wiki/Paris"]
    out = ChatCompletion.model_validate(openai_chat.render_response(resp))
    assert out.model_extra["citations"] == ["https://en.wikipedia.org/wiki/Paris"]
    assert out.model_extra["search_results"][0]["title"] == "Paris"


@pytest.mark.parametrize(("body", "stop"), [
    ({"finish_reason": "length"}, StopReason.MAX_TOKENS),
    ({"finish_reason": "content_filter"}, StopReason.CONTENT_FILTER),
])
def test_chat_finish_reasons(body: dict[str, Any], stop: StopReason) -> None:
    resp = openai_chat.parse_response({"choices": [{"message": {"content": "x"}, **body}]})
    assert resp.stop_reason is stop


def test_stop_reasons_map_across_shapes() -> None:
    resp = anthropic.parse_response({"id": "m", "model": "c", "content": [{"type": "text", "text": "cut"}],
                                     "stop_reason": "max_tokens", "usage": {"input_tokens": 1, "output_tokens": 2}})
    assert resp.stop_reason is StopReason.MAX_TOKENS
    assert openai_chat.render_response(resp)["choices"][0]["finish_reason"] == "length"
    out = Response.model_validate(openai_responses.render_response(resp))
    assert (out.status, out.incomplete_details.reason) == ("incomplete", "max_output_tokens")
    resp = anthropic.parse_response({"id": "m", "model": "c", "content": [], "stop_reason": "refusal",
                                     "usage": {"input_tokens": 1, "output_tokens": 0}})
    assert resp.stop_reason is StopReason.CONTENT_FILTER
    assert openai_chat.render_response(resp)["choices"][0]["finish_reason"] == "content_filter"
    seq = anthropic.parse_response({"id": "m", "model": "c", "content": [], "stop_reason": "stop_sequence",
                                    "stop_sequence": "END", "usage": {"input_tokens": 1, "output_tokens": 0}})
    assert anthropic.render_response(seq)["stop_sequence"] == "END"


def test_converse_guardrail_and_redacted_reasoning() -> None:
    from vmx_app.gateway.convert import bedrock_converse

    resp = bedrock_converse.parse_response({"output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"redactedContent": "b64data"}}, {"text": "blocked"}]}},
        "stopReason": "guardrail_intervened", "usage": {"inputTokens": 3, "outputTokens": 1}}, model="nova")
    assert resp.stop_reason is StopReason.CONTENT_FILTER and resp.model == "nova"
    assert isinstance(resp.content[0], ThinkingPart) and resp.content[0].redacted == "b64data"
    msg = at.Message.model_validate(anthropic.render_response(resp))
    assert msg.content[0].type == "redacted_thinking" and msg.stop_reason == "refusal"
