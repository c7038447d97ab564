"""The official `anthropic` SDK with `base_url=…/anthropic` against the running gateway, for every
provider family: messages, streaming, tools (with the round trip), count_tokens, errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import FAMILIES, Env, make_env

TOOLS: Any = [{"name": "get_weather", "description": "Current weather",
               "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
PROVIDERS = list(FAMILIES)


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "sdk-anthropic")
    for provider in FAMILIES:
        e.resource(e.slot(provider), name=f"r-{provider}")
    yield e


@pytest.fixture(scope="module")
def client(env: Env) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=env.base_url + "/anthropic", api_key=env.key, max_retries=0) as c:
        yield c


@pytest.mark.parametrize("provider", PROVIDERS)
def test_messages(client: anthropic.Anthropic, provider: str) -> None:
    raw = client.messages.with_raw_response.create(
        model=f"r-{provider}", max_tokens=256, system="Be brief.", messages=[{"role": "user", "content": "Hello!"}])
    message = raw.parse()
    assert message.content[0].type == "text" and message.content[0].text == f"Hello from {FAMILIES[provider]}"
    assert message.stop_reason == "end_turn" and message.usage.output_tokens == 3
    assert raw.headers["x-vmx-provider"] == provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_messages_stream(client: anthropic.Anthropic, provider: str) -> None:
    with client.messages.stream(model=f"r-{provider}", max_tokens=256,
                                messages=[{"role": "user", "content": "Hello!"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"Hello from {FAMILIES[provider]}"
    assert final.stop_reason == "end_turn"
    if provider != "perplexity":  # the fake sends Perplexity's stream usage only on include_usage
        assert final.usage.output_tokens == 3


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tools_round_trip(client: anthropic.Anthropic, provider: str) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.messages.create(model=f"r-{provider}", max_tokens=256, tools=TOOLS, messages=messages)
    assert first.stop_reason == "tool_use"
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "Paris"}
    messages += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "Sunny"}]}]
    second = client.messages.create(model=f"r-{provider}", max_tokens=256, tools=TOOLS, messages=messages)
    assert second.content[0].type == "text" and second.content[0].text == f"Hello from {FAMILIES[provider]}"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_async_stream_with_tools(env: Env, provider: str) -> None:
    aclient = anthropic.AsyncAnthropic(base_url=env.base_url + "/anthropic", api_key=env.key, max_retries=0)
    async with aclient, aclient.messages.stream(model=f"r-{provider}", max_tokens=256, tools=TOOLS, messages=[
            {"role": "user", "content": "weather in Paris?"}]) as stream:
        final = await stream.get_final_message()
    [use] = [b for b in final.content if b.type == "tool_use"]
    assert use.input == {"city": "Paris"} and final.stop_reason == "tool_use"


def test_count_tokens(client: anthropic.Anthropic, fake_upstream: FakeUpstream) -> None:
    before = len([r for r in fake_upstream.requests if r.route == "count_tokens"])
    counted = client.messages.count_tokens(model="r-anthropic", messages=[{"role": "user", "content": "Hello!"}])
    assert counted.input_tokens > 0
    forwarded = [r for r in fake_upstream.requests if r.route == "count_tokens"]
    assert len(forwarded) == before + 1 and forwarded[-1].json["model"] == "claude-sonnet-4-5"
    estimated = client.messages.count_tokens(model="r-openai", messages=[{"role": "user", "content": "x" * 400}])
    assert estimated.input_tokens >= 60  # estimated: ~400 letters / 6
    assert len([r for r in fake_upstream.requests if r.route == "count_tokens"]) == before + 1


def test_models_list(client: anthropic.Anthropic) -> None:
    ids = {m.id for m in client.models.list()}
    assert {f"r-{p}" for p in PROVIDERS} <= ids


def test_errors_in_anthropic_shape(env: Env, client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(model="missing", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert nf.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    bad = anthropic.Anthropic(base_url=env.base_url + "/anthropic", api_key="vmx-bad", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model="r-anthropic", max_tokens=5, messages=[{"role": "user", "content": "x"}])
