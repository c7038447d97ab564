"""Provider-neutral parts of the fake upstream: scripted behaviours, recorded requests, and the
deterministic answer every wire format renders.

Deterministic defaults (tests rely on them):
- text: ``"Hello from <model>"``;
- input tokens: (characters of all message text, system prompt and tool results) // 4 + 1, so the
  count stays the same when a gateway converts one wire format into another;
- output tokens: number of whitespace-separated words of the answer text (or of the tool-call
  arguments JSON), plus the words of the thinking text;
- a request with tools whose last message is a user message containing ``weather`` gets a call to
  the first tool with ``{"city": "Paris"}``;
- last user message ``echo-system`` -> the system prompt; ``echo-request`` -> JSON of the body.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from tests.fakes.upstream_schema import instance

StopReason = Literal["stop", "length", "tool"]

_USAGE_KEYS = ("input_tokens", "output_tokens", "cached_tokens", "cache_creation_tokens", "reasoning_tokens")


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake answers with. ``name=None`` means the request's first tool."""

    name: str | None = None
    arguments: dict[str, Any] = field(default_factory=lambda: {"city": "Paris"})


@dataclass(frozen=True)
class Usage:
    """Canonical usage. ``input_tokens`` counts every prompt token, cached ones included (OpenAI's
    convention); Anthropic and Bedrock render ``input_tokens - cached - cache_creation`` as their
    uncached input. ``output_tokens`` includes ``reasoning_tokens``."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int = 0
    cache_creation_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def uncached_input_tokens(self) -> int:
        return max(self.input_tokens - self.cached_tokens - self.cache_creation_tokens, 0)


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one request. Every field is optional; unset fields keep the default."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (timeouts)
    refuse: bool = False  # close the connection without any HTTP response
    cut_after_chunks: int | None = None  # stream N chunks then drop the connection (no clean end)
    error_event: bool = False  # with cut_after_chunks: send the provider's in-stream error, end cleanly
    chunk_delay_s: float = 0.0  # sleep between stream chunks (time to first token, stalls)
    first_chunk_delay_s: float = 0.0  # stream: sleep after the headers, before the first event
    text: str | None = None
    tool_call: ToolCall | tuple[str, dict[str, Any]] | bool | None = None
    thinking: str | None = None
    stop_reason: StopReason | None = None
    usage: dict[str, int] | None = None  # keys: input_tokens, output_tokens, cached_tokens, ...
    error_message: str | None = None
    when: str | None = None  # scripted only: applies to the first request whose last user text contains it

    def __post_init__(self) -> None:
        if self.usage:
            unknown = set(self.usage) - set(_USAGE_KEYS)
            if unknown:
                raise ValueError(f"unknown usage keys {sorted(unknown)}; allowed: {_USAGE_KEYS}")
        if isinstance(self.tool_call, tuple):
            object.__setattr__(self, "tool_call", ToolCall(self.tool_call[0], dict(self.tool_call[1])))
        elif self.tool_call is True:
            object.__setattr__(self, "tool_call", ToolCall())
        elif self.tool_call is False:
            object.__setattr__(self, "tool_call", None)


DEFAULT_BEHAVIOUR = Behaviour()


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received. ``headers`` keys are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    raw: bytes
    model: str | None = None
    route: str = ""


@dataclass
class RequestView:
    """What the answer depends on, extracted from any wire format."""

    model: str
    stream: bool = False
    system: str = ""
    last_user_text: str | None = None  # None when the last message is not a user message
    texts: list[str] = field(default_factory=list)
    tool_names: list[str] = field(default_factory=list)
    thinking_requested: bool = False
    include_usage: bool = False
    json_schema: dict[str, Any] | None = None  # structured output asked for ({"type": "object"}: JSON mode)
    forced_tool: tuple[str, dict[str, Any]] | None = None  # tool_choice naming a tool: (name, input schema)


@dataclass(frozen=True)
class Answer:
    model: str
    text: str | None
    tool_call: ToolCall | None
    thinking: str | None
    usage: Usage
    stop: StopReason

    @property
    def arguments_json(self) -> str:
        return json.dumps(self.tool_call.arguments) if self.tool_call else ""


DEFAULT_THINKING = "Let me think about this."


def count_input_tokens(texts: list[str]) -> int:
    return sum(len(t) for t in texts) // 4 + 1


def count_words(text: str | None) -> int:
    return len(text.split()) if text else 0


def plan_answer(view: RequestView, behaviour: Behaviour, body: Any) -> Answer:
    """The deterministic answer for a request, with the behaviour's overrides applied."""
    last = view.last_user_text.strip() if view.last_user_text is not None else None
    tool_call = behaviour.tool_call if isinstance(behaviour.tool_call, ToolCall) else None
    wants_tool = last is not None and "weather" in last.lower()
    if tool_call is None and behaviour.text is None and view.forced_tool is not None:
        tool_call = ToolCall(view.forced_tool[0], instance(view.forced_tool[1]) or {})
    if tool_call is None and behaviour.text is None and view.tool_names and wants_tool:
        tool_call = ToolCall()
    if tool_call is not None and tool_call.name is None:
        if not view.tool_names:
            raise ValueError("script asks for a tool call to the first tool but the request has no tools")
        tool_call = replace(tool_call, name=view.tool_names[0])

    text: str | None
    if behaviour.text is not None:
        text = behaviour.text
    elif tool_call is not None:
        text = None
    elif last == "echo-system":
        text = view.system
    elif last == "echo-request":
        text = json.dumps(body)
    elif view.json_schema is not None:
        text = json.dumps(instance(view.json_schema))
    else:
        text = f"Hello from {view.model}"

    thinking = behaviour.thinking
    if thinking is None and view.thinking_requested:
        thinking = DEFAULT_THINKING
    reasoning = count_words(thinking)
    output = count_words(text) + count_words(json.dumps(tool_call.arguments) if tool_call else None)
    usage = Usage(
        input_tokens=count_input_tokens(view.texts),
        output_tokens=output + reasoning,
        reasoning_tokens=reasoning,
    )
    if behaviour.usage:
        usage = replace(usage, **behaviour.usage)
    stop: StopReason = behaviour.stop_reason or ("tool" if tool_call is not None else "stop")
    return Answer(model=view.model, text=text, tool_call=tool_call, thinking=thinking, usage=usage, stop=stop)


_PIECES = re.compile(r"\s*\S+\s*|\s+")


def split_text(text: str) -> list[str]:
    """Word-sized stream deltas that concatenate back to ``text`` (at least one, maybe empty)."""
    pieces = _PIECES.findall(text)
    return pieces or [text]


def split_json(arguments: str, parts: int = 3) -> list[str]:
    """Split tool-call arguments into several deltas, as providers stream them."""
    if not arguments:
        return [""]
    step = max(len(arguments) // parts, 1)
    return [arguments[i : i + step] for i in range(0, len(arguments), step)]


def content_texts(content: Any) -> list[str]:
    """Text strings of a message ``content`` (a string or a list of parts), tool results included,
    so the character count survives format conversion. Images and tool-call arguments are skipped."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    if not isinstance(content, list):
        return out
    for part in content:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                out.append(part["text"])
            # Anthropic tool_result and Responses function_call_output keep their text here.
            for key in ("content", "output"):
                if key in part:
                    out += content_texts(part[key])
            if isinstance(part.get("toolResult"), dict):
                out += content_texts(part["toolResult"].get("content"))
    return out


class BadRequest(Exception):
    """The request is malformed for its wire format: the fake answers 400 in the provider's shape."""


_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}{next(_ids):024x}"


def sse(data: Any, event: str | None = None) -> bytes:
    payload = orjson.dumps(data)
    if event is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"
