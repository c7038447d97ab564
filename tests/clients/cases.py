"""What every client case asks and expects (the fake upstream's deterministic answers)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tests.clients.conftest import RESOURCES

WEATHER_QUESTION = "What's the weather in Paris?"
WEATHER_RESULT = "21 degrees and sunny"
WEATHER_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {"city": {"type": "string"}},
                                      "required": ["city"], "additionalProperties": False}
OPENAI_TOOL: dict[str, Any] = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather in a city", "parameters": WEATHER_PARAMETERS}}
ANTHROPIC_TOOL: dict[str, Any] = {"name": "get_weather", "description": "Current weather in a city",
                                  "input_schema": WEATHER_PARAMETERS}


class Weather(BaseModel):
    """The structured-output model every client parses into (the fake fills strings with "Paris")."""

    model_config = ConfigDict(extra="forbid")
    city: str
    temperature: float


def hello(resource: str) -> str:
    return f"Hello from {RESOURCES[resource][1]}"


def get_weather(city: str) -> str:
    """Current weather in a city."""
    assert city == "Paris"
    return WEATHER_RESULT
