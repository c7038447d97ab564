"""Anthropic Messages wire format for the fake upstream (also the body of Bedrock InvokeModel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.upstream_behaviour import (
    Answer,
    BadRequest,
    RequestView,
    Usage,
    content_texts,
    count_input_tokens,
    new_id,
    split_json,
    split_text,
    sse,
)
from tests.fakes.upstream_strict import check_messages, sign

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    408: ("timeout_error", "Request timed out."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error."),
    529: ("overloaded_error", "Overloaded"),
}

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}
SIGNATURE = "ZmFrZS1zaWduYXR1cmU="  # Bedrock Converse reasoning (not checked)


def default_headers() -> dict[str, str]:
    reset = (datetime.now(UTC) + timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "anthropic-ratelimit-requests-limit": "4000",
        "anthropic-ratelimit-requests-remaining": "3999",
        "anthropic-ratelimit-requests-reset": reset,
        "anthropic-ratelimit-tokens-limit": "400000",
        "anthropic-ratelimit-tokens-remaining": "399000",
        "anthropic-ratelimit-tokens-reset": reset,
        "anthropic-ratelimit-input-tokens-limit": "320000",
        "anthropic-ratelimit-output-tokens-limit": "80000",
    }


def error_body(status: int, message: str | None = None) -> dict[str, Any]:
    kind, default = _ERRORS.get(
        status, ("api_error" if status >= 500 else "invalid_request_error", f"Upstream error {status}.")
    )
    return {
        "type": "error",
        "error": {"type": kind, "message": message or default},
        "request_id": new_id("req_"),
    }


def _system_texts(system: Any) -> list[str]:
    if system is None:
        return []
    if not isinstance(system, str | list):
        raise BadRequest("system: Input should be a string or a list of text blocks")
    return content_texts(system)


def parse_messages(body: Any, *, bedrock_model: str | None = None) -> RequestView:
    """Validate like the real API: ``model`` (except on Bedrock, where it is in the path, and
    ``anthropic_version`` is required in the body instead), ``max_tokens`` and ``messages``."""
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object.")
    if bedrock_model is None:
        if not isinstance(body.get("model"), str):
            raise BadRequest("model: Field required")
        model = body["model"]
    else:
        if not isinstance(body.get("anthropic_version"), str):
            raise BadRequest("anthropic_version: Field required")
        model = bedrock_model
    if not isinstance(body.get("max_tokens"), int):
        raise BadRequest("max_tokens: Field required")
    check_messages(body, model)
    view = _view(body, model)
    view.stream = bool(body.get("stream"))
    fmt = (body.get("output_config") or {}).get("format")
    if isinstance(fmt, dict):
        view.json_schema = fmt.get("schema") or {"type": "object"}
    choice = body.get("tool_choice") or {}
    schemas = {t.get("name"): t.get("input_schema") or {} for t in body.get("tools") or [] if isinstance(t, dict)}
    if choice.get("type") == "tool":
        if choice.get("name") not in schemas:
            raise BadRequest(f"tool_choice: tool {choice.get('name')!r} not found in tools")
        view.forced_tool = (choice["name"], schemas[choice["name"]])
    elif choice.get("type") == "any" and schemas:  # some tool must be called: the first one
        name = next(iter(schemas))
        view.forced_tool = (name, schemas[name])
    return view


def _view(body: dict[str, Any], model: str) -> RequestView:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: Field required and must not be empty")
    system = _system_texts(body.get("system"))
    texts = list(system)
    for msg in messages:
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise BadRequest("messages: each message needs role 'user' or 'assistant'")
        texts += content_texts(msg.get("content"))
    last = messages[-1]
    last_text = None
    if last["role"] == "user":
        content = last.get("content")
        blocks = (
            [content]
            if isinstance(content, str)
            else [b.get("text", "") for b in content or [] if isinstance(b, dict) and b.get("type") == "text"]
        )
        last_text = "\n".join(blocks)
    tools = [
        t["name"]
        for t in body.get("tools") or []
        if isinstance(t, dict) and "name" in t and t.get("type", "custom") == "custom"
    ]
    thinking = body.get("thinking") or {}
    return RequestView(
        model=model,
        system="\n".join(system),
        last_user_text=last_text,
        texts=texts,
        tool_names=tools,
        thinking_requested=thinking.get("type") in ("enabled", "adaptive"),
    )


def count_tokens(body: Any) -> dict[str, int]:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise BadRequest("model: Field required")
    return {"input_tokens": count_input_tokens(_view(body, body["model"]).texts)}


def message_usage(u: Usage) -> dict[str, Any]:
    return {
        "input_tokens": u.uncached_input_tokens,
        "cache_creation_input_tokens": u.cache_creation_tokens,
        "cache_read_input_tokens": u.cached_tokens,
        "output_tokens": u.output_tokens,
        "service_tier": "standard",
    }


def _blocks(answer: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if answer.thinking is not None:
        blocks.append({"type": "thinking", "thinking": answer.thinking, "signature": sign(answer.thinking)})
    if answer.text is not None:
        blocks.append({"type": "text", "text": answer.text})
    if answer.tool_call:
        blocks.append(
            {
                "type": "tool_use",
                "id": new_id("toolu_"),
                "name": answer.tool_call.name,
                "input": answer.tool_call.arguments,
            }
        )
    return blocks


def render_message(answer: Answer) -> dict[str, Any]:
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": _blocks(answer),
        "stop_reason": _STOP[answer.stop],
        "stop_sequence": None,
        "usage": message_usage(answer.usage),
    }


def message_events(answer: Answer, *, ping: bool = True) -> list[dict[str, Any]]:
    """The stream events of one message, in the order the API sends them."""
    start_usage = {**message_usage(answer.usage), "output_tokens": 1}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": new_id("msg_"),
                "type": "message",
                "role": "assistant",
                "model": answer.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": start_usage,
            },
        }
    ]
    for index, block in enumerate(_blocks(answer)):
        kind = block["type"]
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in split_text(block["text"])]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in split_text(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            start = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in split_json(answer.arguments_json)]
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        if index == 0 and ping:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    usage = message_usage(answer.usage)
    usage.pop("service_tier")
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP[answer.stop], "stop_sequence": None},
            "usage": usage,
        }
    )
    events.append({"type": "message_stop"})
    return events


def render_message_stream(answer: Answer) -> list[bytes]:
    return [sse(event, event["type"]) for event in message_events(answer)]


def stream_error(message: str | None, _seq: int) -> bytes:
    body = error_body(529, message)
    body.pop("request_id")
    return sse(body, "error")
