"""The fake upstream refuses what the real providers refuse, answers structured output from the schema,
and signs its thinking: proven with the official SDKs against it directly (no gateway)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.fakes.upstream_strict import sign

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "array", "items": {
    "type": "integer"}}}, "required": ["city", "days"], "additionalProperties": False}
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
WEATHER = [{"role": "user", "content": "weather in Paris?"}]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeUpstream]:
    with FakeUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def oai(fake: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.openai_url, api_key="sk-test", max_retries=0)


@pytest.fixture(scope="module")
def claude(fake: FakeUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.url, api_key="sk-ant-test", max_retries=0)


@pytest.mark.parametrize(("model", "extra", "needle"), [
    ("gpt-4o", {"reasoning_effort": "low"}, "reasoning_effort"),
    ("gpt-4o", {"thinking": {"type": "adaptive"}}, "Unrecognized request argument supplied: thinking"),
    ("o4-mini", {"max_tokens": 10}, "max_completion_tokens"),
    ("gpt-4o", {"response_format": {"type": "json_schema", "json_schema": {"schema": SCHEMA}}}, "name"),
])
def test_openai_refusals(oai: openai.OpenAI, model: str, extra: dict[str, Any], needle: str) -> None:
    with pytest.raises(openai.BadRequestError, match=needle):
        oai.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], extra_body=extra)


def test_openai_reasoning_model_and_other_providers_take_their_parameters(oai: openai.OpenAI) -> None:
    assert oai.chat.completions.create(model="o4-mini", messages=[{"role": "user", "content": "hi"}],
                                       reasoning_effort="low").choices[0].message.content == "Hello from o4-mini"
    out = oai.chat.completions.create(model="sonar", messages=[{"role": "user", "content": "hi"}],
                                      extra_body={"search_recency_filter": "week"})
    assert out.choices[0].message.content == "Hello from sonar"  # Perplexity's own parameter


@pytest.mark.parametrize(("model", "extra", "needle"), [
    ("claude-sonnet-4-5", {"reasoning_effort": "low"}, "reasoning_effort"),
    ("claude-3-5-haiku-latest", {"thinking": {"type": "enabled", "budget_tokens": 1024}}, "thinking"),
    ("claude-3-5-haiku-latest", {"output_config": {"format": {"type": "json_schema", "schema": SCHEMA}}},
     "structured outputs"),
    ("claude-sonnet-4-5", {"thinking": {"type": "adaptive"}, "tools": [TOOL],
                           "tool_choice": {"type": "tool", "name": "get_weather"}}, "forces tool use"),
])
def test_anthropic_refusals(claude: anthropic.Anthropic, model: str, extra: dict[str, Any], needle: str) -> None:
    with pytest.raises(anthropic.BadRequestError, match=needle):
        claude.messages.create(model=model, max_tokens=2048, messages=WEATHER, extra_body=extra)


def _tool_turn(claude: anthropic.Anthropic) -> list[Any]:
    first = claude.messages.create(model="claude-sonnet-4-5", max_tokens=4096, tools=[TOOL], messages=WEATHER,
                                   thinking={"type": "enabled", "budget_tokens": 1024})
    thinking, call = first.content[0], first.content[-1]
    assert thinking.type == "thinking" and thinking.signature == sign(thinking.thinking) and call.type == "tool_use"
    return [b.model_dump(exclude_none=True) for b in first.content]


@pytest.mark.parametrize(("mangle", "needle"), [
    (lambda blocks: blocks[1:], "must start with a thinking block"),  # the client dropped the thinking
    (lambda blocks: [{**blocks[0], "signature": "forged"}, *blocks[1:]], "Invalid `signature`"),
])
def test_tool_turn_needs_its_signed_thinking(claude: anthropic.Anthropic, mangle: Any, needle: str) -> None:
    blocks = _tool_turn(claude)
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": blocks[-1]["id"], "content": "21"}]}
    with pytest.raises(anthropic.BadRequestError, match=needle):
        claude.messages.create(model="claude-sonnet-4-5", max_tokens=4096, tools=[TOOL],
                               thinking={"type": "enabled", "budget_tokens": 1024},
                               messages=[*WEATHER, {"role": "assistant", "content": mangle(blocks)}, result])
    ok = claude.messages.create(model="claude-sonnet-4-5", max_tokens=4096, tools=[TOOL],
                                thinking={"type": "enabled", "budget_tokens": 1024},
                                messages=[*WEATHER, {"role": "assistant", "content": blocks}, result])
    assert ok.stop_reason == "end_turn"


def test_structured_output_answers_from_the_schema(oai: openai.OpenAI, claude: anthropic.Anthropic) -> None:
    chat = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                       response_format={"type": "json_schema", "json_schema": {
                                           "name": "w", "schema": SCHEMA}})
    assert json.loads(chat.choices[0].message.content or "") == {"city": "Paris", "days": [21]}
    message = claude.messages.create(model="claude-sonnet-4-5", max_tokens=1024, messages=WEATHER,
                                     output_config={"format": {"type": "json_schema", "schema": SCHEMA}})
    assert json.loads(message.content[0].text) == {"city": "Paris", "days": [21]}  # type: ignore[union-attr]
    forced = claude.messages.create(model="claude-3-5-haiku-latest", max_tokens=1024, messages=WEATHER,
                                    tools=[TOOL], tool_choice={"type": "any"})
    assert forced.content[0].type == "tool_use" and forced.content[0].input == {"city": "Paris"}


def test_scripted_behaviour_waits_for_its_text(fake: FakeUpstream, oai: openai.OpenAI) -> None:
    fake.script("gpt-4o", Behaviour(when="MARKER", text="scripted"))
    first = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "other"}])
    assert first.choices[0].message.content == "Hello from gpt-4o" and fake.pending("gpt-4o") == 1
    second = oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "with MARKER"}])
    assert second.choices[0].message.content == "scripted" and fake.pending("gpt-4o") == 0
