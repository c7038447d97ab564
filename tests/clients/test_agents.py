"""Agent frameworks, unchanged: the OpenAI Agents SDK (its chat-completions model) and pydantic-ai
(its OpenAI chat model), on both resources. Neither sends reasoning back with tool results."""

from __future__ import annotations

from typing import Any

from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI
from openai.types.shared import Reasoning
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.clients.cases import WEATHER_QUESTION, WEATHER_RESULT, Weather, hello
from tests.clients.cases import get_weather as weather_impl
from tests.sdk.env import Env

set_tracing_disabled(True)  # no trace upload to OpenAI from tests


@function_tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return weather_impl(city)


def agent(env: Env, resource: str, **extra: Any) -> Agent[Any]:
    client = AsyncOpenAI(base_url=env.base_url, api_key=env.key, max_retries=0)
    return Agent(name="assistant", instructions="Be brief.",
                 model=OpenAIChatCompletionsModel(model=resource, openai_client=client), **extra)


async def test_agents_text(clients_env: Env, resource: str) -> None:
    assert (await Runner.run(agent(clients_env, resource), "Hello!")).final_output == hello(resource)


async def test_agents_streaming(clients_env: Env, resource: str) -> None:
    run = Runner.run_streamed(agent(clients_env, resource), "Hello!")
    deltas = [ev.data.delta async for ev in run.stream_events()
              if ev.type == "raw_response_event" and ev.data.type == "response.output_text.delta"]
    assert "".join(deltas) == hello(resource) and run.final_output == hello(resource)


async def test_agents_tool_round_trip(clients_env: Env, resource: str) -> None:
    result = await Runner.run(agent(clients_env, resource, tools=[get_weather]), WEATHER_QUESTION)
    assert result.final_output == hello(resource)
    assert any(getattr(item, "output", None) == WEATHER_RESULT for item in result.new_items)


async def test_agents_structured_output(clients_env: Env, resource: str) -> None:
    result = await Runner.run(agent(clients_env, resource, output_type=Weather), "Weather in Paris?")
    assert result.final_output == Weather(city="Paris", temperature=21.5)


async def test_agents_reasoning_with_tools(clients_env: Env, resource: str) -> None:
    settings = ModelSettings(reasoning=Reasoning(effort="low"))
    result = await Runner.run(agent(clients_env, resource, tools=[get_weather], model_settings=settings),
                              WEATHER_QUESTION)
    assert result.final_output == hello(resource)


# ---- pydantic-ai --------------------------------------------------------------------------------------

def pyd_agent(env: Env, resource: str, **extra: Any) -> PydanticAgent[None, Any]:
    model = OpenAIChatModel(resource, provider=OpenAIProvider(base_url=env.base_url, api_key=env.key))
    out: PydanticAgent[None, Any] = PydanticAgent(model, instructions="Be brief.", **extra)
    return out


def with_weather_tool(a: PydanticAgent[None, Any]) -> PydanticAgent[None, Any]:
    a.tool_plain(weather_impl, name="get_weather")
    return a


async def test_pydantic_ai_text(clients_env: Env, resource: str) -> None:
    assert (await pyd_agent(clients_env, resource).run("Hello!")).output == hello(resource)


async def test_pydantic_ai_streaming(clients_env: Env, resource: str) -> None:
    async with pyd_agent(clients_env, resource).run_stream("Hello!") as run:
        text = "".join([delta async for delta in run.stream_text(delta=True)])
    assert text == hello(resource)


async def test_pydantic_ai_tool_round_trip(clients_env: Env, resource: str) -> None:
    result = await with_weather_tool(pyd_agent(clients_env, resource)).run(WEATHER_QUESTION)
    assert result.output == hello(resource)


async def test_pydantic_ai_structured_output(clients_env: Env, resource: str) -> None:
    result = await pyd_agent(clients_env, resource, output_type=Weather).run("Weather in Paris?")
    assert result.output == Weather(city="Paris", temperature=21.5)


async def test_pydantic_ai_reasoning_with_tools(clients_env: Env, resource: str) -> None:
    a = with_weather_tool(pyd_agent(clients_env, resource, model_settings={"openai_reasoning_effort": "low"}))
    assert (await a.run(WEATHER_QUESTION)).output == hello(resource)
