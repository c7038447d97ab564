"""Canonical request, response and stream-event model of the gateway engine.

Every endpoint shape (OpenAI Chat, OpenAI Responses, Anthropic Messages) parses into these
dataclasses, and every provider wire format is built from them, so a conversion is always
"endpoint -> canonical -> provider" and back. Pure data: no I/O, no web or SQL imports.

Token semantics follow OpenAI: `Usage.input` counts every prompt token (cache reads and
writes included) and `Usage.output` includes reasoning tokens; `cached_input`,
`cache_write_input` and `reasoning` are subsets. Converters translate to Anthropic's
disjoint counters at the edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

# The client-facing API shape of a gateway request.
Endpoint = Literal["chat", "responses", "anthropic"]
# How an upstream leg failed: an HTTP status, no answer in time, no connection, refused by the
# capacity gate, skipped by an open circuit, or a connection that cannot be used as configured.
FailureKind = Literal["http", "timeout", "network", "gate", "circuit", "config", "conversion"]
# errorRate(windowSeconds, status | "any") of the resource's primary model, as routing reads it.
ErrorRateFn = Callable[[int, "str | int"], float]

Wire = Literal["openai_chat", "openai_responses", "anthropic", "bedrock_converse"]
WIRES: tuple[str, ...] = ("openai_chat", "openai_responses", "anthropic", "bedrock_converse")


class InvalidRequest(ValueError):
    """A request body that is malformed for its shape (the API answers 400)."""


class UnsupportedContent(ValueError):
    """Content the target shape cannot express. Raised instead of silently dropping it (400)."""


class ProviderResponseError(Exception):
    """A provider answered 2xx with a body its wire format does not allow (treated as an upstream failure)."""


class Role(StrEnum):
    SYSTEM = "system"  # a system turn inside the conversation (Anthropic mid-conversation system turns)
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class StopReason(StrEnum):
    END_TURN = "end_turn"
    MAX_TOKENS = "max_tokens"
    STOP_SEQUENCE = "stop_sequence"
    TOOL_USE = "tool_use"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"


# ---------------------------------------------------------------- content parts


@dataclass(slots=True)
class TextPart:
    text: str
    # Anthropic prompt-cache marker; Converse renders it as a cachePoint, OpenAI caches on its own.
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class ImagePart:
    """An image given either inline (`data` base64 + `media_type`) or by `url`."""

    data: str | None = None
    media_type: str | None = None
    url: str | None = None
    detail: str | None = None  # OpenAI's low|high|auto hint
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class ToolCallPart:
    id: str
    name: str
    arguments: str = "{}"  # JSON text, as OpenAI sends it
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class ToolResultPart:
    tool_call_id: str
    content: list[TextPart | ImagePart | RawPart] = field(default_factory=list)
    is_error: bool = False
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class ThinkingPart:
    """Model reasoning. `signature` (or `redacted`) is opaque provider state that must be echoed back.

    `origin` is the wire that produced the signature: signatures are only valid for their issuer,
    so builders for other providers leave foreign signed reasoning out (providers ignore prior-turn
    reasoning for generation anyway).
    """

    text: str = ""
    signature: str | None = None
    redacted: str | None = None  # Anthropic redacted_thinking data / Converse redactedContent
    id: str | None = None  # Responses reasoning item id
    origin: str | None = None


@dataclass(slots=True)
class RawPart:
    """A block only its own shape understands (documents, server tools...). Same-shape builders
    emit it verbatim; every other builder raises UnsupportedContent naming `kind`."""

    shape: str
    kind: str
    data: dict[str, Any]


Part = TextPart | ImagePart | ToolCallPart | ToolResultPart | ThinkingPart | RawPart


@dataclass(slots=True)
class Message:
    role: Role
    content: list[Part] = field(default_factory=list)
    name: str | None = None


# ---------------------------------------------------------------- request


@dataclass(slots=True)
class Tool:
    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None
    cache_control: dict[str, Any] | None = None
    raw: RawPart | None = None  # non-function tools (server tools, built-ins) of one shape


@dataclass(slots=True)
class ToolChoice:
    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None  # when mode == "tool"


@dataclass(slots=True)
class Reasoning:
    """Reasoning request. OpenAI speaks `effort`, Anthropic `budget_tokens`; builders translate."""

    enabled: bool = True
    effort: str | None = None
    budget_tokens: int | None = None
    summary: str | None = None


@dataclass(slots=True)
class CanonicalRequest:
    messages: list[Message] = field(default_factory=list)
    system: list[TextPart] = field(default_factory=list)
    model: str | None = None  # what the client asked for (the AI resource name)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    stream_include_usage: bool = False
    reasoning: Reasoning | None = None
    response_format: dict[str, Any] | None = None  # OpenAI chat `response_format` shape
    user: str | None = None
    # Known parameters of the source shape without a canonical field (seed, logprobs, ...):
    # re-emitted only to the same wire family, left out elsewhere.
    native: dict[str, Any] = field(default_factory=dict)
    native_shape: str | None = None
    # Unknown top-level keys (e.g. providerArgs such as Perplexity search_recency_filter): passed through.
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- response


@dataclass(slots=True)
class Usage:
    input: int = 0
    output: int = 0
    cached_input: int = 0
    cache_write_input: int = 0
    reasoning: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        if not self.total:
            self.total = self.input + self.output

    def merged(self, other: Usage | None) -> Usage:
        """Field-wise max: folds the partial, cumulative usages of one stream (Anthropic sends
        input in message_start and output in message_delta)."""
        if other is None:
            return self
        inp = max(self.input, other.input)
        out = max(self.output, other.output)
        return Usage(
            input=inp,
            output=out,
            cached_input=max(self.cached_input, other.cached_input),
            cache_write_input=max(self.cache_write_input, other.cache_write_input),
            reasoning=max(self.reasoning, other.reasoning),
            total=max(inp + out, self.total, other.total),
        )


@dataclass(slots=True)
class CanonicalResponse:
    id: str
    model: str
    content: list[Part] = field(default_factory=list)
    stop_reason: StopReason = StopReason.END_TURN
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    created: int | None = None
    # Provider extras worth keeping (Perplexity citations/search_results, ...).
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- stream events
# `index` is the content-block index of the output (Anthropic numbering): each text, thinking or
# tool-call block gets its own index, in order. Renderers map it to their own numbering.


@dataclass(slots=True)
class MessageStart:
    id: str
    model: str
    usage: Usage | None = None


@dataclass(slots=True)
class TextDelta:
    index: int
    text: str


@dataclass(slots=True)
class ToolCallStart:
    index: int
    id: str
    name: str


@dataclass(slots=True)
class ToolArgsDelta:
    index: int
    partial_json: str


@dataclass(slots=True)
class ThinkingDelta:
    index: int
    text: str = ""
    signature: str | None = None
    redacted: str | None = None


@dataclass(slots=True)
class BlockStop:
    index: int


@dataclass(slots=True)
class MessageDelta:
    stop_reason: StopReason
    usage: Usage | None = None
    stop_sequence: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class MessageStop:
    pass


@dataclass(slots=True)
class StreamError:
    status: int
    message: str
    type: str | None = None


CanonicalStreamEvent = (
    MessageStart
    | TextDelta
    | ToolCallStart
    | ToolArgsDelta
    | ThinkingDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | StreamError
)
