"""Provider stream (4 wires) -> canonical events -> endpoint SSE bytes (3 shapes).

Every frame is validated with the SDK's own event types, and the whole byte stream is fed to the
official OpenAI and Anthropic clients (over an in-memory transport) whose stream helpers
accumulate the final message: that is what a real client of the gateway would see.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import anthropic as anthropic_sdk
import httpx
import httpx2
import openai
import pytest
from anthropic.types import RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from tests.unit.test_convert_cases import CLIENT_REQUESTS, PARSERS, WIRES, renderer_for
from tests.unit.test_convert_stream_cases import PROVIDER_STREAMS
from vmx_app.gateway.convert.registry import provider_stream_parser
from vmx_app.gateway.types import CanonicalStreamEvent, MessageStart, StreamError, TextDelta

RESPONSES_EVENT = TypeAdapter(ResponseStreamEvent)
ANTHROPIC_EVENT = TypeAdapter(RawMessageStreamEvent)
_BODY: dict[str, bytes] = {}


def _sse(_: Any) -> Any:
    return {"content": _BODY["bytes"], "headers": {"content-type": "text/event-stream"}}


@pytest.fixture(scope="module")
def openai_client() -> Iterator[openai.OpenAI]:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, **_sse(r)))
    client = openai.OpenAI(api_key="vmx-test", base_url="http://gateway/v1", max_retries=0,
                           http_client=httpx.Client(transport=transport))
    yield client
    client.close()


@pytest.fixture(scope="module")
def anthropic_client() -> Iterator[anthropic_sdk.Anthropic]:
    transport = httpx2.MockTransport(lambda r: httpx2.Response(200, **_sse(r)))
    client = anthropic_sdk.Anthropic(api_key="vmx-test", base_url="http://gateway/anthropic", max_retries=0,
                                     http_client=httpx2.Client(transport=transport))
    yield client
    client.close()


def frames(data: bytes) -> list[tuple[str | None, str]]:
    out = []
    for raw in data.decode().split("\n\n"):
        if not raw:
            continue
        event, payload = None, []
        for line in raw.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                payload.append(line[6:])
            else:
                raise AssertionError(f"unexpected SSE line {line!r}")
        out.append((event, "\n".join(payload)))
    return out


def convert(wire: str, scenario: str, endpoint: str) -> tuple[list[CanonicalStreamEvent], bytes]:
    parser = provider_stream_parser(wire, "upstream-model")
    events: list[CanonicalStreamEvent] = []
    for ev in copy.deepcopy(PROVIDER_STREAMS[(wire, scenario)]):
        events += parser.feed(ev)
    events += parser.finish()
    req = PARSERS[endpoint](copy.deepcopy(CLIENT_REQUESTS[endpoint]["stream"]))
    renderer = renderer_for(endpoint, req)
    return events, b"".join(b for ev in events for b in renderer.render(ev))


def validate_frames(endpoint: str, data: bytes) -> None:
    parsed = frames(data)
    if endpoint == "openai_chat":
        assert parsed[-1] == (None, "[DONE]")
        for event, payload in parsed[:-1]:
            assert event is None
            ChatCompletionChunk.model_validate(json.loads(payload))
        return
    adapter = RESPONSES_EVENT if endpoint == "openai_responses" else ANTHROPIC_EVENT
    for i, (event, payload) in enumerate(parsed):
        obj = json.loads(payload)
        assert event == obj["type"]
        adapter.validate_python(obj)
        if endpoint == "openai_responses":
            assert obj["sequence_number"] == i


@pytest.mark.parametrize("scenario", ["text", "tools"])
@pytest.mark.parametrize("wire", WIRES)
def test_parsers_emit_a_well_formed_event_sequence(wire: str, scenario: str) -> None:
    events, _ = convert(wire, scenario, "anthropic")
    assert isinstance(events[0], MessageStart)
    assert [type(e).__name__ for e in events[-2:]] == ["MessageDelta", "MessageStop"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == ("Paris." if scenario == "text" else "")
    usage = events[-2].usage
    assert (usage.input, usage.output, usage.cached_input, usage.total) == (20, 5, 8, 25)


@pytest.mark.parametrize("scenario", ["text", "tools"])
@pytest.mark.parametrize("wire", WIRES)
def test_chat_endpoint_stream(wire: str, scenario: str, openai_client: openai.OpenAI) -> None:
    _, data = convert(wire, scenario, "openai_chat")
    validate_frames("openai_chat", data)
    _BODY["bytes"] = data
    with openai_client.chat.completions.stream(model="my-resource", messages=[{"role": "user", "content": "q"}],
                                               stream_options={"include_usage": True}) as stream:
        final = stream.get_final_completion()
    choice = final.choices[0]
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (20, 5)
    assert final.usage.prompt_tokens_details.cached_tokens == 8
    if scenario == "text":
        assert (choice.message.content, choice.finish_reason) == ("Paris.", "stop")
        assert choice.message.model_extra["reasoning_content"] == "France -> Paris"
    else:
        call = choice.message.tool_calls[0]
        assert choice.finish_reason == "tool_calls"
        assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
            "call_1", "get_weather", {"city": "Paris"})


@pytest.mark.parametrize("scenario", ["text", "tools"])
@pytest.mark.parametrize("wire", WIRES)
def test_responses_endpoint_stream(wire: str, scenario: str, openai_client: openai.OpenAI) -> None:
    _, data = convert(wire, scenario, "openai_responses")
    validate_frames("openai_responses", data)
    _BODY["bytes"] = data
    with openai_client.responses.stream(model="my-resource", input="q") as stream:
        final = stream.get_final_response()
    assert final.status == "completed"
    assert (final.usage.input_tokens, final.usage.output_tokens, final.usage.input_tokens_details.cached_tokens) == (
        20, 5, 8)
    if scenario == "text":
        assert final.output_text == "Paris."
        assert final.output[0].type == "reasoning" and final.output[0].summary[0].text == "France -> Paris"
    else:
        call = next(i for i in final.output if i.type == "function_call")
        assert (call.call_id, call.name, json.loads(call.arguments)) == ("call_1", "get_weather", {"city": "Paris"})


@pytest.mark.parametrize("scenario", ["text", "tools"])
@pytest.mark.parametrize("wire", WIRES)
def test_anthropic_endpoint_stream(wire: str, scenario: str, anthropic_client: anthropic_sdk.Anthropic) -> None:
    _, data = convert(wire, scenario, "anthropic")
    validate_frames("anthropic", data)
    _BODY["bytes"] = data
    with anthropic_client.messages.stream(model="my-resource", max_tokens=100,
                                          messages=[{"role": "user", "content": "q"}]) as stream:
        final = stream.get_final_message()
    assert (final.usage.input_tokens, final.usage.cache_read_input_tokens, final.usage.output_tokens) == (12, 8, 5)
    if scenario == "text":
        text = next(b for b in final.content if b.type == "text")
        assert (text.text, final.stop_reason) == ("Paris.", "end_turn")
        thinking = final.content[0]
        assert thinking.type == "thinking" and thinking.thinking == "France -> Paris"
        if wire in ("anthropic", "bedrock_converse"):  # the signature is Claude's to check later
            assert thinking.signature == "sig-1"
    else:
        block = next(b for b in final.content if b.type == "tool_use")
        assert (block.id, block.name, block.input, final.stop_reason) == (
            "call_1", "get_weather", {"city": "Paris"}, "tool_use")


# ---------------------------------------------------------------- mid-stream failures


def _partial(endpoint: str) -> Any:
    renderer = renderer_for(endpoint)
    head = renderer.render(MessageStart("x", "m")) + renderer.render(TextDelta(0, "Par"))
    return renderer, head


def test_chat_stream_error_raises_in_the_sdk(openai_client: openai.OpenAI) -> None:
    renderer, head = _partial("openai_chat")
    tail = renderer.render(StreamError(502, "upstream reset"))
    assert tail == [b'data: {"error":{"message":"upstream reset","type":"server_error","param":null,"code":"502"}}\n\n']
    assert renderer.render(TextDelta(0, "late")) == []
    _BODY["bytes"] = b"".join(head + tail)
    with pytest.raises(openai.APIError, match="upstream reset"):
        list(openai_client.chat.completions.create(model="r", messages=[], stream=True))


def test_anthropic_stream_error_raises_in_the_sdk(anthropic_client: anthropic_sdk.Anthropic) -> None:
    renderer, head = _partial("anthropic")
    tail = renderer.error(529, "Overloaded")
    assert tail == [b'event: error\ndata: {"type":"error",'
                    b'"error":{"type":"overloaded_error","message":"Overloaded"}}\n\n']
    _BODY["bytes"] = b"".join(head + tail)
    with pytest.raises(anthropic_sdk.APIStatusError, match="Overloaded"):
        list(anthropic_client.messages.create(model="r", max_tokens=5, messages=[], stream=True))


def test_responses_stream_error_ends_failed(openai_client: openai.OpenAI) -> None:
    renderer, head = _partial("openai_responses")
    tail = renderer.error(429, "slow down")
    data = b"".join(head + tail)
    validate_frames("openai_responses", data)
    kinds = [json.loads(p)["type"] for _, p in frames(data)]
    assert kinds[-2:] == ["error", "response.failed"]
    _BODY["bytes"] = data
    events = list(openai_client.responses.create(model="r", input="q", stream=True))
    assert events[-2].message == "slow down"
    assert (events[-1].response.status, events[-1].response.error.code) == ("failed", "rate_limit_exceeded")


@pytest.mark.parametrize(("wire", "event", "status"), [
    ("openai_chat", {"error": {"message": "bad gateway", "type": "server_error"}}, 502),
    ("openai_responses", {"type": "error", "code": "rate_limit_exceeded", "message": "slow", "sequence_number": 3},
     429),
    ("anthropic", ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}), 529),
    ("bedrock_converse", {"throttlingException": {"message": "Too many requests"}}, 429),
])
def test_provider_stream_errors_become_stream_errors(wire: str, event: Any, status: int) -> None:
    parser = provider_stream_parser(wire, "m")
    out = parser.feed(event)
    assert isinstance(out[-1], StreamError) and out[-1].status == status and out[-1].message


@pytest.mark.parametrize("endpoint", ["openai_chat", "openai_responses", "anthropic"])
def test_redacted_reasoning_streams_stay_valid(endpoint: str) -> None:
    parser = provider_stream_parser("bedrock_converse", "anthropic.claude")
    events: list[CanonicalStreamEvent] = []
    for ev in [{"messageStart": {"role": "assistant"}},
               {"contentBlockDelta": {"delta": {"reasoningContent": {"redactedContent": "ENCRYPTED"}},
                                      "contentBlockIndex": 0}},
               {"contentBlockStop": {"contentBlockIndex": 0}},
               {"contentBlockDelta": {"delta": {"text": "Done."}, "contentBlockIndex": 1}},
               {"contentBlockStop": {"contentBlockIndex": 1}},
               {"messageStop": {"stopReason": "max_tokens"}},
               {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 9}}}]:
        events += parser.feed(ev)
    renderer = renderer_for(endpoint)
    data = b"".join(b for e in events for b in renderer.render(e))
    validate_frames(endpoint, data)
    payloads = [json.loads(p) for _, p in frames(data) if p != "[DONE]"]
    if endpoint == "openai_chat":
        assert {"type": "redacted_thinking", "data": "ENCRYPTED"} in [
            b for p in payloads if p["choices"] for b in p["choices"][0]["delta"].get("thinking_blocks", [])]
        assert payloads[-2]["choices"][0]["finish_reason"] == "length"
    elif endpoint == "openai_responses":
        done = payloads[-1]["response"]
        assert (done["status"], done["incomplete_details"]) == ("incomplete", {"reason": "max_output_tokens"})
        assert done["output"][0]["id"].startswith("rs_vmxr_") and done["output"][0]["encrypted_content"] == "ENCRYPTED"
    else:
        starts = [p["content_block"] for p in payloads if p["type"] == "content_block_start"]
        assert starts[0] == {"type": "redacted_thinking", "data": "ENCRYPTED"}
        assert payloads[-2]["delta"]["stop_reason"] == "max_tokens"
