"""The official `openai` SDK against the running gateway, routed to the fake upstream for every
provider family: chat and responses, sync and async, streaming and not, tools (with the round trip)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import FAMILIES, Env, audit_row, make_env

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
CHAT_TOOLS: Any = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                                                     "parameters": WEATHER}}]
RESP_TOOLS: Any = [{"type": "function", "name": "get_weather", "description": "Current weather",
                    "parameters": WEATHER}]


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "sdk-openai")
    for provider in FAMILIES:
        e.resource(e.slot(provider), name=f"r-{provider}")
    yield e


@pytest.fixture(scope="module")
def client(env: Env) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=env.base_url, api_key=env.key, max_retries=0) as c:
        yield c


@pytest.fixture
def aclient(env: Env) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=env.base_url, api_key=env.key, max_retries=0)


PROVIDERS = list(FAMILIES)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chat_sync(client: openai.OpenAI, provider: str) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=f"r-{provider}", messages=[{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": "Hello!"}])
    completion = raw.parse()
    assert completion.choices[0].message.content == f"Hello from {FAMILIES[provider]}"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    assert raw.headers["x-vmx-provider"] == provider and raw.headers["x-vmx-model"] == FAMILIES[provider]
    assert raw.headers["x-vmx-resource"] == f"r-{provider}"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_chat_stream_async(aclient: openai.AsyncOpenAI, provider: str) -> None:
    stream = await aclient.chat.completions.create(
        model=f"r-{provider}", messages=[{"role": "user", "content": "Hello!"}], stream=True,
        stream_options={"include_usage": True})
    text, finish, usage = "", None, None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == f"Hello from {FAMILIES[provider]}" and finish == "stop"
    if provider != "perplexity":  # the fake sends Perplexity's usage only on request (include_usage)
        assert usage is not None and usage.completion_tokens == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chat_tools_round_trip(client: openai.OpenAI, provider: str) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model=f"r-{provider}", messages=messages, tools=CHAT_TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"}]
    second = client.chat.completions.create(model=f"r-{provider}", messages=messages, tools=CHAT_TOOLS)
    assert second.choices[0].message.content == f"Hello from {FAMILIES[provider]}"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_chat_tools_stream(client: openai.OpenAI, provider: str) -> None:
    stream = client.chat.completions.create(
        model=f"r-{provider}", messages=[{"role": "user", "content": "weather in Paris?"}], tools=CHAT_TOOLS,
        stream=True)
    names, args, finish = {}, {}, None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                if call.function and call.function.name:
                    names[call.index] = call.function.name
                args[call.index] = args.get(call.index, "") + ((call.function and call.function.arguments) or "")
    assert names == {0: "get_weather"} and json.loads(args[0]) == {"city": "Paris"} and finish == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_responses_sync(client: openai.OpenAI, provider: str) -> None:
    response = client.responses.create(model=f"r-{provider}", instructions="Be brief.", input="Hello!")
    assert response.output_text == f"Hello from {FAMILIES[provider]}"
    assert response.status == "completed" and response.usage is not None and response.usage.output_tokens == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_responses_stream_async(aclient: openai.AsyncOpenAI, provider: str) -> None:
    stream = await aclient.responses.create(model=f"r-{provider}", input="Hello!", stream=True)
    deltas, final = "", None
    async for event in stream:
        if event.type == "response.output_text.delta":
            deltas += event.delta
        elif event.type == "response.completed":
            final = event.response
    assert deltas == f"Hello from {FAMILIES[provider]}"
    assert final is not None and final.output_text == deltas and final.usage is not None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_responses_tools_round_trip(client: openai.OpenAI, provider: str) -> None:
    first = client.responses.create(model=f"r-{provider}", input="What's the weather in Paris?", tools=RESP_TOOLS)
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    follow: Any = [{"role": "user", "content": "What's the weather in Paris?"}, call.model_dump(exclude_none=True),
                   {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny"}]
    second = client.responses.create(model=f"r-{provider}", input=follow, tools=RESP_TOOLS)
    assert second.output_text == f"Hello from {FAMILIES[provider]}"


def test_responses_stream_helper_with_tools(client: openai.OpenAI) -> None:
    with client.responses.stream(model="r-anthropic", input="weather in Paris?", tools=RESP_TOOLS) as stream:
        final = stream.get_final_response()
    [call] = [item for item in final.output if item.type == "function_call"]
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_models_list(client: openai.OpenAI) -> None:
    ids = {m.id for m in client.models.list()}
    assert {f"r-{p}" for p in PROVIDERS} <= ids


def test_audit_row_of_an_sdk_call(client: openai.OpenAI, env: Env) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="r-openai", messages=[{"role": "user", "content": "Hello!"}],
        extra_body={"vmx": {"correlationId": "sdk-corr", "metadata": {"app": "tests"}}})
    row = audit_row(raw.headers["x-vmx-request-id"])
    assert row["status_code"] == 200 and row["endpoint"] == "chat.completions" and row["provider"] == "openai"
    assert row["correlation_id"] == "sdk-corr" and row["request_metadata"] == {"app": "tests"}
    assert row["completion_tokens"] == 3 and row["resource_name"] == "r-openai"
    assert row["cost"] is not None and "total" in row["cost"]
    assert row["response_payload"]["choices"][0]["message"]["content"] == "Hello from gpt-4o"


def test_sdk_errors(env: Env, client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as nf:
        client.chat.completions.create(model="no-such-resource", messages=[{"role": "user", "content": "x"}])
    assert nf.value.code == "model_not_found"
    bad = openai.OpenAI(base_url=env.base_url, api_key="vmx-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="r-openai", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError) as br:
        client.chat.completions.create(model="r-openai", messages=[{"role": "user", "content": "x"}],
                                       extra_body={"vmx": {"secondaryModelIndex": 5}})
    assert br.value.param == "vmx.secondaryModelIndex"
