"""`langchain-openai` (ChatOpenAI) and `langchain-anthropic` (ChatAnthropic), unchanged, on both resources.
LangChain's OpenAI chat model does not send reasoning back: reasoning + tools on Claude relies on the
gateway keeping the signed thinking."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.clients.cases import WEATHER_QUESTION, Weather, hello
from tests.clients.cases import get_weather as weather_impl
from tests.sdk.env import Env


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return weather_impl(city)


def chat_model(kind: str, env: Env, resource: str, **extra: Any) -> BaseChatModel:
    if kind == "openai":
        return ChatOpenAI(model=resource, base_url=env.base_url, api_key=env.key, max_retries=0,  # type: ignore[arg-type]
                          **extra)
    return ChatAnthropic(model=resource, base_url=env.base_url + "/anthropic", api_key=env.key,  # type: ignore[call-arg,arg-type]
                         max_retries=0, max_tokens=4096, **extra)


KINDS = ["openai", "anthropic"]


@pytest.mark.parametrize("kind", KINDS)
def test_text(clients_env: Env, resource: str, kind: str) -> None:
    assert chat_model(kind, clients_env, resource).invoke("Hello!").content == hello(resource)


@pytest.mark.parametrize("kind", KINDS)
def test_streaming(clients_env: Env, resource: str, kind: str) -> None:
    chunks = list(chat_model(kind, clients_env, resource).stream("Hello!"))
    assert "".join(c.text for c in chunks) == hello(resource)


def _round_trip(model: BaseChatModel, resource: str) -> None:
    bound = model.bind_tools([get_weather])
    messages: list[Any] = [HumanMessage(WEATHER_QUESTION)]
    first = bound.invoke(messages)
    assert first.tool_calls and first.tool_calls[0]["args"] == {"city": "Paris"}  # type: ignore[attr-defined]
    messages += [first, ToolMessage(get_weather.invoke(first.tool_calls[0]["args"]),  # type: ignore[attr-defined]
                                    tool_call_id=first.tool_calls[0]["id"])]  # type: ignore[attr-defined]
    assert bound.invoke(messages).text == hello(resource)


@pytest.mark.parametrize("kind", KINDS)
def test_tool_round_trip(clients_env: Env, resource: str, kind: str) -> None:
    _round_trip(chat_model(kind, clients_env, resource), resource)


@pytest.mark.parametrize("kind", KINDS)
def test_structured_output(clients_env: Env, resource: str, kind: str) -> None:
    structured = chat_model(kind, clients_env, resource).with_structured_output(Weather)
    assert structured.invoke("Weather in Paris?") == Weather(city="Paris", temperature=21.5)


@pytest.mark.parametrize("kind", KINDS)
def test_reasoning_with_tools(clients_env: Env, resource: str, kind: str) -> None:
    extra: dict[str, Any] = ({"reasoning_effort": "low"} if kind == "openai"
                             else {"thinking": {"type": "enabled", "budget_tokens": 1024}})
    _round_trip(chat_model(kind, clients_env, resource, **extra), resource)
