"""Which wire format a request speaks: the route table of the fake upstream, matched by path suffix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes import upstream_anthropic as anthropic
from tests.fakes import upstream_bedrock as bedrock
from tests.fakes import upstream_openai as openai
from tests.fakes import upstream_responses as responses
from tests.fakes.upstream_behaviour import Answer, RequestView

Family = Literal["openai", "anthropic", "bedrock"]
EVENTSTREAM = "application/vnd.amazon.eventstream"


@dataclass(frozen=True)
class Route:
    family: Family
    parse: Callable[[Any, str | None], RequestView]
    render: Callable[[Answer, Any], dict[str, Any]]
    render_stream: Callable[[Answer, Any, RequestView], list[bytes]]
    stream_error: Callable[[str | None, int], bytes]
    stream_type: str = "text/event-stream; charset=utf-8"
    forced_stream: bool | None = None  # Bedrock: the path decides, not the body


ROUTES: dict[str, Route] = {
    "chat": Route(
        "openai",
        lambda b, _m: openai.parse_chat(b),
        lambda a, _b: openai.render_chat(a),
        lambda a, _b, v: openai.render_chat_stream(a, v.include_usage),
        openai.chat_stream_error,
    ),
    "responses": Route(
        "openai",
        lambda b, _m: responses.parse_responses(b),
        responses.render_responses,
        lambda a, b, _v: responses.render_responses_stream(a, b),
        responses.responses_stream_error,
    ),
    "messages": Route(
        "anthropic",
        lambda b, _m: anthropic.parse_messages(b),
        lambda a, _b: anthropic.render_message(a),
        lambda a, _b, _v: anthropic.render_message_stream(a),
        anthropic.stream_error,
    ),
    "converse": Route(
        "bedrock",
        lambda b, m: bedrock.parse_converse(b, m or "", False),
        lambda a, _b: bedrock.render_converse(a),
        lambda a, _b, _v: [],
        bedrock.stream_error,
        forced_stream=False,
    ),
    "converse-stream": Route(
        "bedrock",
        lambda b, m: bedrock.parse_converse(b, m or "", True),
        lambda a, _b: {},
        lambda a, _b, _v: bedrock.render_converse_stream(a),
        bedrock.stream_error,
        EVENTSTREAM,
        forced_stream=True,
    ),
    "invoke": Route(
        "bedrock",
        lambda b, m: anthropic.parse_messages(b, bedrock_model=m or ""),
        lambda a, _b: anthropic.render_message(a),
        lambda a, _b, _v: [],
        bedrock.stream_error,
        forced_stream=False,
    ),
    "invoke-with-response-stream": Route(
        "bedrock",
        lambda b, m: anthropic.parse_messages(b, bedrock_model=m or ""),
        lambda a, _b: {},
        lambda a, _b, _v: bedrock.render_invoke_stream(a),
        bedrock.stream_error,
        EVENTSTREAM,
        forced_stream=True,
    ),
}


def match_route(method: str, path: str) -> tuple[str | None, str | None]:
    """(route name, model from the path). Suffix matching lets any base-URL prefix work."""
    if method == "POST":
        found = bedrock.ROUTE.search(path)
        if found:
            return found["op"], found["model"]
        for suffix, name in (
            ("/messages/count_tokens", "count_tokens"),
            ("/messages", "messages"),
            ("/chat/completions", "chat"),
            ("/responses", "responses"),
        ):
            if path.endswith(suffix):
                return name, None
    elif method == "GET" and path.endswith("/models"):
        return "models", None
    return None, None
