"""The official `openai` Python SDK: chat completions and Responses, unchanged, on both resources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.clients.cases import OPENAI_TOOL, WEATHER_QUESTION, WEATHER_RESULT, Weather, hello
from tests.sdk.env import Env


@pytest.fixture(scope="module")
def client(clients_env: Env) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=clients_env.base_url, api_key=clients_env.key, max_retries=0) as c:
        yield c


def test_text(client: openai.OpenAI, resource: str) -> None:
    out = client.chat.completions.create(model=resource, messages=[{"role": "user", "content": "Hello!"}])
    assert out.choices[0].message.content == hello(resource)
    assert client.responses.create(model=resource, input="Hello!").output_text == hello(resource)


def test_streaming(client: openai.OpenAI, resource: str) -> None:
    stream = client.chat.completions.create(model=resource, messages=[{"role": "user", "content": "Hello!"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == hello(resource)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    with client.responses.stream(model=resource, input="Hello!") as events:
        assert events.get_final_response().output_text == hello(resource)


def _round_trip(client: openai.OpenAI, resource: str, **extra: Any) -> str | None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = client.chat.completions.create(model=resource, messages=messages, tools=[OPENAI_TOOL], **extra)
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.choices[0].finish_reason == "tool_calls" and json.loads(call.function.arguments) == {"city": "Paris"}
    # What most code does: only role, content and tool_calls go back (any reasoning is dropped).
    messages += [{"role": "assistant", "content": None, "tool_calls": [call.model_dump(exclude_none=True)]},
                 {"role": "tool", "tool_call_id": call.id, "content": WEATHER_RESULT}]
    second = client.chat.completions.create(model=resource, messages=messages, tools=[OPENAI_TOOL], **extra)
    assert second.choices[0].finish_reason == "stop"
    return second.choices[0].message.content


def test_tool_round_trip(client: openai.OpenAI, resource: str) -> None:
    assert _round_trip(client, resource) == hello(resource)


def test_structured_output(client: openai.OpenAI, resource: str) -> None:
    parsed = client.chat.completions.parse(model=resource, messages=[{"role": "user", "content": "Weather?"}],
                                           response_format=Weather).choices[0].message.parsed
    assert parsed == Weather(city="Paris", temperature=21.5)
    resp = client.responses.parse(model=resource, input="Weather?", text_format=Weather)
    assert resp.output_parsed == Weather(city="Paris", temperature=21.5)
    mode = client.chat.completions.create(model=resource, messages=[{"role": "user", "content": "JSON weather"}],
                                          response_format={"type": "json_object"})
    assert isinstance(json.loads(mode.choices[0].message.content or ""), dict)


def test_reasoning_with_tools(client: openai.OpenAI, resource: str) -> None:
    assert _round_trip(client, resource, reasoning_effort="low") == hello(resource)
