"""The fake upstream speaks each provider's wire format: proven with the official SDKs."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import boto3
import httpx
import openai
import pytest
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError
from urllib3.exceptions import ProtocolError

from tests.fakes.eventstream import encode_event, encode_exception, encode_message
from tests.fakes.upstream import Behaviour, FakeUpstream, ToolCall

WEATHER_TOOL_OPENAI = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
WEATHER_TOOL_ANTHROPIC = {"name": "get_weather", "input_schema": {"type": "object"}}
TOOL_CONFIG = {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {"json": {"type": "object"}}}}]}
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
ANTHROPIC_RAW = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeUpstream) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def oai(fake: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.openai_url, api_key="sk-test", max_retries=0)


@pytest.fixture(scope="module")
def claude(fake: FakeUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.url, api_key="sk-ant-test", max_retries=0)


@pytest.fixture(scope="module")
def bedrock(fake: FakeUpstream) -> Any:
    keys = {"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "secret"}
    retries = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=fake.url, config=retries, **keys)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def conv(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def test_eventstream_encoding_decodes_with_botocore() -> None:
    data = encode_event("contentBlockDelta", {"delta": {"text": "héllo"}})
    data += encode_exception("throttlingException", "slow down")
    buffer = EventStreamBuffer()
    for i in range(0, len(data), 7):  # fed in fragments, as a socket would
        buffer.add_data(data[i : i + 7])
    first, second = list(buffer)
    expected = {":event-type": "contentBlockDelta", ":content-type": "application/json", ":message-type": "event"}
    assert first.headers == expected
    assert json.loads(first.payload) == {"delta": {"text": "héllo"}}
    assert second.headers[":exception-type"] == "throttlingException"
    corrupt = bytearray(encode_message({"a": "b"}, b"payload"))
    corrupt[-6] ^= 0xFF
    broken = EventStreamBuffer()
    broken.add_data(bytes(corrupt))
    with pytest.raises(ChecksumMismatch):
        list(broken)


def test_chat_completion_json_usage_and_ratelimit_headers(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(model="gpt-4o", messages=user("hello there"))
    completion = raw.parse()
    assert completion.model == "gpt-4o"
    assert completion.choices[0].message.content == "Hello from gpt-4o"
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (len("hello there") // 4 + 1, 3)
    assert raw.headers["x-ratelimit-limit-requests"] and raw.headers["x-ratelimit-limit-tokens"]


@pytest.mark.parametrize("prefix", ["/v1", "/openai/v1", "/v1beta/openai"])
def test_chat_stream_include_usage_on_any_prefix(fake: FakeUpstream, prefix: str) -> None:
    client = openai.OpenAI(base_url=fake.url + prefix, api_key="k", max_retries=0)
    options = {"include_usage": True}
    chunks = list(client.chat.completions.create(model="m1", messages=user("hi"), stream=True, stream_options=options))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from m1"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 3
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert fake.last_request.path == prefix + "/chat/completions"


def test_chat_stream_without_usage_sends_no_usage_chunk(oai: openai.OpenAI) -> None:
    chunks = list(oai.chat.completions.create(model="m1", messages=user("hi"), stream=True))
    assert all(c.choices for c in chunks) and all(c.usage is None for c in chunks)


def test_chat_tool_call_streams_argument_deltas(oai: openai.OpenAI) -> None:
    tools = [WEATHER_TOOL_OPENAI]
    chunks = list(
        oai.chat.completions.create(model="m1", messages=user("What's the weather?"), stream=True, tools=tools)
    )
    deltas = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices[0].delta.tool_calls]
    assert deltas[0].function.name == "get_weather" and deltas[0].id
    assert len(deltas) >= 3
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"city": "Paris"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    with oai.chat.completions.stream(model="m1", messages=user("weather"), tools=[WEATHER_TOOL_OPENAI]) as s:
        final = s.get_final_completion()
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'


def test_chat_json_tool_call_and_echoes(oai: openai.OpenAI) -> None:
    tool = oai.chat.completions.create(model="m1", messages=user("weather in paris"), tools=[WEATHER_TOOL_OPENAI])
    call = tool.choices[0].message.tool_calls[0]
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert tool.choices[0].finish_reason == "tool_calls"
    system = [{"role": "system", "content": "Be terse."}, *user("echo-system")]
    assert oai.chat.completions.create(model="m1", messages=system).choices[0].message.content == "Be terse."
    echoed = oai.chat.completions.create(model="m1", messages=user("echo-request"), temperature=0.5)
    assert json.loads(echoed.choices[0].message.content)["temperature"] == 0.5


def test_models_list(oai: openai.OpenAI, fake: FakeUpstream) -> None:
    fake.set_default("my-model", Behaviour(text="x"))
    ids = [m.id for m in oai.models.list()]
    assert "gpt-4o" in ids and "my-model" in ids


def test_responses_json_and_tool_call(oai: openai.OpenAI) -> None:
    response = oai.responses.create(model="gpt-4o", input="hi", instructions="sys")
    assert response.output_text == "Hello from gpt-4o" and response.status == "completed"
    assert response.usage.input_tokens == len("sys" + "hi") // 4 + 1 and response.usage.output_tokens == 3
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]
    call = oai.responses.create(model="gpt-4o", input="weather?", tools=tools).output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "Paris"}
    assert oai.responses.create(model="gpt-4o", input="echo-system", instructions="Obey.").output_text == "Obey."


def test_responses_stream_typed_events(oai: openai.OpenAI, fake: FakeUpstream) -> None:
    with oai.responses.stream(model="gpt-4o", input="hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert final.output_text == "Hello from gpt-4o" and final.usage.total_tokens > 0
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[2:4] == ["response.output_item.added", "response.content_part.added"]
    assert types[-4:-2] == ["response.output_text.done", "response.content_part.done"]
    assert types[-2:] == ["response.output_item.done", "response.completed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    body = {"model": "m", "input": "weather", "stream": True, "tools": [{"type": "function", "name": "lookup"}]}
    raw = httpx.post(f"{fake.openai_url}/responses", headers={"authorization": "Bearer k"}, json=body).text
    assert "event: response.function_call_arguments.delta\n" in raw
    assert '"name":"lookup"' in raw and "event: response.completed\n" in raw


def test_responses_reasoning_summary(oai: openai.OpenAI) -> None:
    with oai.responses.stream(model="o3", input="hi", reasoning={"effort": "low", "summary": "auto"}) as stream:
        types = {e.type for e in stream}
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == "Let me think about this."
    assert "response.reasoning_summary_text.delta" in types and final.usage.output_tokens_details.reasoning_tokens == 5


def test_anthropic_message_json_tool_use_and_count_tokens(claude: anthropic.Anthropic) -> None:
    raw = claude.messages.with_raw_response.create(model="claude-x", max_tokens=50, messages=user("hello"))
    message = raw.parse()
    assert message.content[0].text == "Hello from claude-x" and message.stop_reason == "end_turn"
    assert message.usage.input_tokens == 2 and message.usage.output_tokens == 3
    assert raw.headers["anthropic-ratelimit-requests-limit"] and raw.headers["anthropic-ratelimit-tokens-limit"]
    tool = claude.messages.create(model="x", max_tokens=50, messages=user("weather?"), tools=[WEATHER_TOOL_ANTHROPIC])
    assert tool.stop_reason == "tool_use" and tool.content[0].input == {"city": "Paris"}
    system = [{"type": "text", "text": "S1"}]
    echo = claude.messages.create(model="c", max_tokens=5, system=system, messages=user("echo-system"))
    assert echo.content[0].text == "S1"
    count = claude.messages.count_tokens(model="claude-x", messages=user("x" * 40))
    assert count.input_tokens == 11


def test_anthropic_stream_events(claude: anthropic.Anthropic) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    tools = [WEATHER_TOOL_ANTHROPIC]
    with claude.messages.stream(
        model="c", max_tokens=50, messages=user("weather"), tools=tools, thinking=thinking
    ) as stream:
        events = list(stream)
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "tool_use"]
    assert final.content[1].input == {"city": "Paris"} and final.stop_reason == "tool_use"
    deltas = {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == {"thinking_delta", "signature_delta", "input_json_delta"}
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    text = claude.messages.create(model="c", max_tokens=5, messages=user("hi"), stream=True)
    kinds = [e.type for e in text]
    middle = ["content_block_start", *["content_block_delta"] * 3, "content_block_stop"]
    assert kinds == ["message_start", *middle, "message_delta", "message_stop"]


def test_anthropic_auth_and_validation(fake: FakeUpstream) -> None:
    body = {"model": "c", "max_tokens": 5, "messages": user("hi")}
    missing = httpx.post(f"{fake.url}/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    no_version = httpx.post(f"{fake.url}/v1/messages", json=body, headers={"x-api-key": "k"})
    assert no_version.status_code == 400 and no_version.json()["error"]["type"] == "invalid_request_error"
    legacy = httpx.post(f"{fake.url}/v1/messages", json=body, headers=ANTHROPIC_RAW)
    assert legacy.json()["content"][0]["text"] == "Hello from c"
    streamed = httpx.post(f"{fake.url}/v1/messages", json={**body, "stream": True}, headers=ANTHROPIC_RAW).text
    assert "event: ping\n" in streamed and streamed.endswith('event: message_stop\ndata: {"type":"message_stop"}\n\n')
    no_openai_key = httpx.post(f"{fake.openai_url}/chat/completions", json={"model": "m", "messages": user("x")})
    assert no_openai_key.status_code == 401 and no_openai_key.json()["error"]["code"] == "invalid_api_key"
    no_max = httpx.post(f"{fake.url}/v1/messages", json={"model": "c", "messages": user("x")}, headers=ANTHROPIC_RAW)
    assert no_max.status_code == 400 and "max_tokens" in no_max.json()["error"]["message"]


def test_bedrock_converse(bedrock: Any, fake: FakeUpstream) -> None:
    out = bedrock.converse(modelId=CLAUDE, messages=conv("hello"), system=[{"text": "sys prompt"}])
    assert out["output"]["message"]["content"] == [{"text": f"Hello from {CLAUDE}"}]
    assert out["stopReason"] == "end_turn" and out["metrics"]["latencyMs"] >= 0
    prompt = len("sys prompt" + "hello") // 4 + 1
    assert out["usage"] == {"inputTokens": prompt, "outputTokens": 3, "totalTokens": prompt + 3}
    assert fake.last_request.model == CLAUDE and fake.last_request.headers["authorization"].startswith("AWS4")
    tool = bedrock.converse(modelId=CLAUDE, messages=conv("weather"), toolConfig=TOOL_CONFIG)
    assert tool["stopReason"] == "tool_use"
    assert tool["output"]["message"]["content"][0]["toolUse"]["input"] == {"city": "Paris"}
    echo = bedrock.converse(modelId=CLAUDE, messages=conv("echo-system"), system=[{"text": "A"}, {"text": "B"}])
    assert echo["output"]["message"]["content"][0]["text"] == "A\nB"


def test_bedrock_converse_stream(bedrock: Any) -> None:
    out = bedrock.converse_stream(modelId=CLAUDE, toolConfig=TOOL_CONFIG, messages=conv("weather?"))
    events = list(out["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and kinds[-2:] == ["messageStop", "metadata"]
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    assert start["start"]["toolUse"]["name"] == "get_weather"
    args = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events if "contentBlockDelta" in e)
    assert json.loads(args) == {"city": "Paris"} and kinds.count("contentBlockDelta") >= 3
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 2
    text = bedrock.converse_stream(modelId=CLAUDE, messages=conv("hi"))
    pieces = [e["contentBlockDelta"]["delta"]["text"] for e in text["stream"] if "contentBlockDelta" in e]
    assert "".join(pieces) == f"Hello from {CLAUDE}"


def test_bedrock_stream_cut_and_error_event(bedrock: Any, fake: FakeUpstream) -> None:
    fake.script(CLAUDE, Behaviour(cut_after_chunks=2, error_event=True), Behaviour(cut_after_chunks=2))
    seen: list[Any] = []
    with pytest.raises(EventStreamError, match="internalServerException"):
        seen.extend(bedrock.converse_stream(modelId=CLAUDE, messages=conv("hi"))["stream"])
    assert [next(iter(e)) for e in seen] == ["messageStart", "contentBlockDelta"]
    with pytest.raises(ProtocolError):
        list(bedrock.converse_stream(modelId=CLAUDE, messages=conv("hi"))["stream"])


def test_bedrock_invoke_and_invoke_stream(bedrock: Any) -> None:
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 20, "messages": user("hi")})
    out = bedrock.invoke_model(modelId=CLAUDE, body=body)
    message = json.loads(out["body"].read())
    assert message["type"] == "message" and message["content"][0]["text"] == f"Hello from {CLAUDE}"
    assert out["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-output-token-count"] == "3"
    stream = bedrock.invoke_model_with_response_stream(modelId=CLAUDE, body=body)
    events = [json.loads(e["chunk"]["bytes"]) for e in stream["body"]]
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == 3
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == f"Hello from {CLAUDE}"
    with pytest.raises(ClientError, match="ValidationException"):
        bedrock.invoke_model(modelId=CLAUDE, body=json.dumps({"max_tokens": 5, "messages": user("x")}))


def test_bedrock_requires_sigv4_and_shapes_errors(fake: FakeUpstream, bedrock: Any) -> None:
    unsigned = httpx.post(f"{fake.url}/model/{CLAUDE}/converse", json={"messages": []})
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Missing Authentication Token"}
    assert unsigned.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    fake.script(CLAUDE, Behaviour(status=429))
    with pytest.raises(ClientError) as info:
        bedrock.converse(modelId=CLAUDE, messages=conv("hi"))
    assert info.value.response["Error"]["Code"] == "ThrottlingException"


def test_scripted_errors_then_default(oai: openai.OpenAI, claude: anthropic.Anthropic, fake: FakeUpstream) -> None:
    limited_behaviour = Behaviour(status=429, headers={"retry-after": "7", "x-ratelimit-limit-requests": "3"})
    fake.script("gpt-4o", limited_behaviour, Behaviour(status=500), Behaviour(text="third"))
    with pytest.raises(openai.RateLimitError) as limited:
        oai.chat.completions.create(model="gpt-4o", messages=user("x"))
    assert limited.value.response.headers["retry-after"] == "7"
    assert limited.value.response.headers["x-ratelimit-limit-requests"] == "3"
    assert limited.value.body["code"] == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError):
        oai.chat.completions.create(model="gpt-4o", messages=user("x"))
    texts = [oai.chat.completions.create(model="gpt-4o", messages=user("x")).choices[0].message.content for _ in "ab"]
    assert texts == ["third", "Hello from gpt-4o"]
    fake.set_default("*", Behaviour(status=529, error_message="busy"))
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        claude.messages.create(model="c", max_tokens=5, messages=user("x"))
    assert overloaded.value.status_code == 529 and overloaded.value.body["error"]["message"] == "busy"


def test_usage_overrides_map_to_each_format(
    oai: openai.OpenAI, claude: anthropic.Anthropic, bedrock: Any, fake: FakeUpstream
) -> None:
    usage = {"input_tokens": 100, "cached_tokens": 40, "output_tokens": 10, "reasoning_tokens": 4}
    call = ToolCall("lookup", {"q": 1})
    fake.set_default("*", Behaviour(usage=usage, tool_call=call, text="and text", stop_reason="length"))
    chat = oai.chat.completions.create(model="m", messages=user("x"), tools=[WEATHER_TOOL_OPENAI])
    assert chat.usage.prompt_tokens_details.cached_tokens == 40
    assert chat.usage.completion_tokens_details.reasoning_tokens == 4 and chat.usage.total_tokens == 110
    assert chat.choices[0].finish_reason == "length" and chat.choices[0].message.content == "and text"
    assert chat.choices[0].message.tool_calls[0].function.name == "lookup"
    msg = claude.messages.create(model="c", max_tokens=5, messages=user("x"))
    assert (msg.usage.input_tokens, msg.usage.cache_read_input_tokens, msg.stop_reason) == (60, 40, "max_tokens")
    converse = bedrock.converse(modelId=CLAUDE, messages=conv("x"))
    assert converse["usage"]["cacheReadInputTokens"] == 40 and converse["stopReason"] == "max_tokens"


def test_delay_refuse_and_refused_url(fake: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=fake.openai_url, api_key="k", max_retries=0, timeout=0.2)
    fake.script("m", Behaviour(delay_s=0.6), Behaviour(refuse=True))
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=user("x"))
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="m", messages=user("x"))
    refused = openai.OpenAI(base_url=fake.refused_url() + "/v1", api_key="k", max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        refused.models.list()


def test_cut_streams_and_error_events(oai: openai.OpenAI, claude: anthropic.Anthropic, fake: FakeUpstream) -> None:
    cut, error_event = Behaviour(cut_after_chunks=2), Behaviour(cut_after_chunks=1, error_event=True)
    fake.script("m", cut, error_event, Behaviour(cut_after_chunks=1))
    received: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        received.extend(oai.chat.completions.create(model="m", messages=user("x"), stream=True))
    assert len(received) == 2
    with pytest.raises(openai.APIError, match="server had an error"):
        list(oai.chat.completions.create(model="m", messages=user("x"), stream=True))
    with pytest.raises(openai.APIConnectionError):  # a cut JSON body
        oai.chat.completions.create(model="m", messages=user("x"))
    fake.script("c", Behaviour(cut_after_chunks=3, error_event=True, chunk_delay_s=0.01))
    with pytest.raises(anthropic.APIStatusError, match="overloaded_error"):
        list(claude.messages.create(model="c", max_tokens=5, messages=user("x"), stream=True))


def test_recording(oai: openai.OpenAI, claude: anthropic.Anthropic, fake: FakeUpstream) -> None:
    oai.chat.completions.create(model="a", messages=user("one"))
    claude.messages.create(model="b", max_tokens=5, messages=user("two"))
    oai.chat.completions.create(model="a", messages=user("three"))
    assert [r.model for r in fake.requests] == ["a", "b", "a"]
    first, second = fake.requests_for("a")
    assert first.method == "POST" and first.path == "/v1/chat/completions" and first.route == "chat"
    assert first.json["messages"] == user("one") and json.loads(first.raw) == first.json
    assert first.headers["authorization"] == "Bearer sk-test"
    assert fake.requests_for("b")[0].headers["authorization"] == "Bearer sk-ant-test"  # the SDK's choice
    fake.script("a", Behaviour(text="left"))
    assert fake.pending("a") == 1
    fake.reset()
    assert fake.requests == [] and fake.pending("a") == 0


def test_standalone_server_answers() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "tests.fakes.upstream", "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, auth = time.monotonic() + 10, {"authorization": "Bearer k"}
        while True:
            try:
                body = {"model": "bench", "messages": user("x")}
                reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", headers=auth, json=body)
                break
            except httpx.ConnectError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "standalone fake did not start"
                time.sleep(0.05)
        assert reply.json()["choices"][0]["message"]["content"] == "Hello from bench"
    finally:
        proc.terminate()
        proc.wait(5)
