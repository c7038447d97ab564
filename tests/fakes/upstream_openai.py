"""OpenAI Chat Completions wire format for the fake upstream (JSON and SSE), plus OpenAI errors."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.upstream_behaviour import (
    Answer,
    BadRequest,
    RequestView,
    Usage,
    content_texts,
    new_id,
    split_json,
    split_text,
    sse,
)
from tests.fakes.upstream_strict import check_chat

DEFAULT_HEADERS = {
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "2000000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "1999000",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "30ms",
    "openai-processing-ms": "1",
}

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to access this resource."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("timeout", None, "Request timed out."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", "service_unavailable", "The engine is currently overloaded."),
}

_FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kind, code, default = _ERRORS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", None, f"Upstream error {status}."),
    )
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def require(body: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(key), kind):
        raise BadRequest(f"Missing or invalid required parameter: '{key}'.")
    return body[key]


def parse_chat(body: Any) -> RequestView:
    model = require(body, "model", str)
    messages = require(body, "messages", list)
    check_chat(body)
    if not messages:
        raise BadRequest("'messages' must contain at least one message.")
    system: list[str] = []
    texts: list[str] = []
    for msg in messages:
        if not isinstance(msg, dict) or "role" not in msg:
            raise BadRequest("Each message must be an object with a 'role'.")
        parts = content_texts(msg.get("content"))
        texts += parts
        if msg["role"] in ("system", "developer"):
            system += parts
    # System messages after the user's (Claude Code's mid-conversation system turns) do not end the turn.
    last = next((m for m in reversed(messages) if m.get("role") not in ("system", "developer")), messages[-1])
    tools = [
        t["function"]["name"] for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"
    ]
    return RequestView(
        model=model,
        stream=bool(body.get("stream")),
        system="\n".join(system),
        last_user_text="\n".join(content_texts(last.get("content"))) if last["role"] == "user" else None,
        texts=texts,
        tool_names=tools,
        include_usage=bool((body.get("stream_options") or {}).get("include_usage")),
        json_schema=response_schema(body.get("response_format")),
        forced_tool=_forced_tool(body),
    )


def response_schema(fmt: Any) -> dict[str, Any] | None:
    """The schema of a chat `response_format` (or a Responses `text.format`); None for plain text."""
    if not isinstance(fmt, dict) or fmt.get("type") not in ("json_schema", "json_object"):
        return None
    if fmt["type"] == "json_object":
        return {"type": "object"}
    spec = fmt.get("json_schema") if "json_schema" in fmt else fmt  # Responses puts the schema inline
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict) or not spec.get("name"):
        raise BadRequest("response_format.json_schema needs a `name` and a `schema`.")
    return spec["schema"]  # type: ignore[no-any-return]


def _forced_tool(body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    choice = body.get("tool_choice")
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    if choice == "required" and tools:  # some tool must be called: the first one
        return tools[0]["function"]["name"], tools[0]["function"].get("parameters") or {}
    if not isinstance(choice, dict) or choice.get("type") != "function":
        return None
    name = (choice.get("function") or {}).get("name")
    for tool in tools:
        fn = (tool.get("function") or {}) if isinstance(tool, dict) else {}
        if fn.get("name") == name:
            return name, fn.get("parameters") or {}
    raise BadRequest(f"tool_choice names function {name!r}, which is not among the tools.")


def chat_usage(u: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": u.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def render_chat(answer: Answer) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.text,
        "refusal": None,
        "annotations": [],
    }
    if answer.tool_call:
        message["tool_calls"] = [
            {
                "id": new_id("call_"),
                "type": "function",
                "function": {"name": answer.tool_call.name, "arguments": answer.arguments_json},
            }
        ]
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _FINISH[answer.stop]}],
        "usage": chat_usage(answer.usage),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def render_chat_stream(answer: Answer, include_usage: bool) -> list[bytes]:
    cid, created = new_id("chatcmpl-"), int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        data: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": answer.model,
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            data["usage"] = None
        return sse(data)

    out: list[bytes] = []
    if answer.text is not None:
        out.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        out += [chunk({"content": piece}) for piece in split_text(answer.text) if piece]
    if answer.tool_call:
        start: dict[str, Any] = {
            "tool_calls": [
                {
                    "index": 0,
                    "id": new_id("call_"),
                    "type": "function",
                    "function": {"name": answer.tool_call.name, "arguments": ""},
                }
            ]
        }
        if answer.text is None:
            start = {"role": "assistant", "content": None, "refusal": None, **start}
        out.append(chunk(start))
        out += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in split_json(answer.arguments_json)
        ]
    out.append(chunk({}, _FINISH[answer.stop]))
    if include_usage:
        out.append(
            sse(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": answer.model,
                    "service_tier": "default",
                    "system_fingerprint": "fp_fake",
                    "choices": [],
                    "usage": chat_usage(answer.usage),
                }
            )
        )
    out.append(b"data: [DONE]\n\n")
    return out


def chat_stream_error(message: str | None, _seq: int) -> bytes:
    return sse(error_body(500, message or "The server had an error while processing your request."))
