"""The official `anthropic` Python SDK (`base_url=…/anthropic`), unchanged, on both resources; plus
Claude Code's shapes (adaptive thinking, system turns inside `messages`) on a non-Claude model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.clients.cases import ANTHROPIC_TOOL, WEATHER_QUESTION, WEATHER_RESULT, Weather, hello
from tests.sdk.env import Env


@pytest.fixture(scope="module")
def client(clients_env: Env) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=clients_env.base_url + "/anthropic", api_key=clients_env.key,
                             max_retries=0) as c:
        yield c


def test_text(client: anthropic.Anthropic, resource: str) -> None:
    out = client.messages.create(model=resource, max_tokens=1024, messages=[{"role": "user", "content": "Hello!"}])
    assert out.content[0].type == "text" and out.content[0].text == hello(resource)


def test_streaming(client: anthropic.Anthropic, resource: str) -> None:
    with client.messages.stream(model=resource, max_tokens=1024,
                                messages=[{"role": "user", "content": "Hello!"}]) as stream:
        assert "".join(stream.text_stream) == hello(resource)
        assert stream.get_final_message().usage.output_tokens > 0


def _round_trip(client: anthropic.Anthropic, resource: str, **extra: Any) -> anthropic.types.Message:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = client.messages.create(model=resource, max_tokens=4096, tools=[ANTHROPIC_TOOL], messages=messages,
                                   **extra)
    call = next(b for b in first.content if b.type == "tool_use")
    assert first.stop_reason == "tool_use" and call.input == {"city": "Paris"}
    messages += [{"role": "assistant", "content": first.content},  # the SDK's way: content echoed as is
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                               "content": WEATHER_RESULT}]}]
    second = client.messages.create(model=resource, max_tokens=4096, tools=[ANTHROPIC_TOOL], messages=messages,
                                    **extra)
    assert second.stop_reason == "end_turn"
    return second


def test_tool_round_trip(client: anthropic.Anthropic, resource: str) -> None:
    assert _round_trip(client, resource).content[-1].text == hello(resource)  # type: ignore[union-attr]


def test_structured_output(client: anthropic.Anthropic, resource: str) -> None:
    parsed = client.messages.parse(model=resource, max_tokens=1024, output_format=Weather,
                                   messages=[{"role": "user", "content": "Weather?"}])
    assert parsed.parsed_output == Weather(city="Paris", temperature=21.5)


def test_reasoning_with_tools(client: anthropic.Anthropic, resource: str) -> None:
    second = _round_trip(client, resource, thinking={"type": "enabled", "budget_tokens": 1024})
    assert second.content[-1].text == hello(resource)  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True])
def test_claude_code_shapes_on_a_non_claude_model(client: anthropic.Anthropic, stream: bool) -> None:
    """Adaptive thinking, effort and a system turn inside `messages` (Claude Code with a non-Claude name):
    gpt-4o takes no reasoning, so it is left out (and said on the audit row) instead of a 400."""
    messages: Any = [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi."},
                     {"role": "system", "content": "The user switched to plan mode."},
                     {"role": "user", "content": "Hello!"}]
    raw = client.messages.with_raw_response.create(
        model="coder", max_tokens=2048, system="You are Claude Code.", messages=messages, stream=stream,
        thinking={"type": "adaptive"}, output_config={"effort": "medium"})
    assert raw.status_code == 200 and raw.headers["x-vmx-event-0-type"] == "conversion"
    if not stream:
        assert raw.parse().content[0].text == hello("coder")  # type: ignore[union-attr]
