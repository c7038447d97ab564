"""Bedrock wire formats for the fake upstream: Converse, ConverseStream, InvokeModel and
InvokeModelWithResponseStream (Anthropic Messages inside the AWS event stream)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from tests.fakes.eventstream import encode_event, encode_exception
from tests.fakes.upstream_anthropic import SIGNATURE, message_events
from tests.fakes.upstream_behaviour import (
    Answer,
    BadRequest,
    RequestView,
    Usage,
    content_texts,
    new_id,
    split_json,
    split_text,
)

ROUTE = re.compile(r"/model/(?P<model>.+)/(?P<op>converse-stream|converse|invoke-with-response-stream|invoke)$")

_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", "Malformed input request, please reformat your input and try again."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "Could not resolve the foundation model from the model identifier."),
    408: ("ModelTimeoutException", "Model has timed out in processing the request."),
    424: ("ModelErrorException", "The model returned an error."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "The server encountered an internal error."),
    503: ("ServiceUnavailableException", "The service is temporarily unavailable."),
}

_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}


def error(status: int, message: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """Body and headers of a Bedrock error; botocore reads the code from `x-amzn-ErrorType`."""
    kind, default = _ERRORS.get(
        status,
        ("InternalServerException" if status >= 500 else "ValidationException", f"Upstream error {status}."),
    )
    return {"message": message or default}, {"x-amzn-ErrorType": kind}


def auth_error() -> tuple[dict[str, Any], dict[str, str]]:
    return {"message": "Missing Authentication Token"}, {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}


def has_sigv4(headers: dict[str, str]) -> bool:
    auth = headers.get("authorization", "")
    return auth.startswith("AWS4-HMAC-SHA256 Credential=") and bool(headers.get("x-amz-date"))


def parse_converse(body: Any, model: str, stream: bool) -> RequestView:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        raise BadRequest("The model returned the following errors: messages: Field required")
    system = body.get("system") or []
    if not isinstance(system, list):
        raise BadRequest("system must be a list of SystemContentBlock")
    system_texts = content_texts(system)
    texts = list(system_texts)
    for msg in body["messages"]:
        if (
            not isinstance(msg, dict)
            or msg.get("role") not in ("user", "assistant")
            or not isinstance(msg.get("content"), list)
        ):
            raise BadRequest("Each message needs a role (user|assistant) and a list of content blocks.")
        texts += content_texts(msg["content"])
    last = body["messages"][-1]
    last_text = None
    if last["role"] == "user":
        last_text = "\n".join(b["text"] for b in last["content"] if isinstance(b, dict) and "text" in b)
    tools = [
        t["toolSpec"]["name"]
        for t in (body.get("toolConfig") or {}).get("tools") or []
        if isinstance(t, dict) and "toolSpec" in t
    ]
    extra = body.get("additionalModelRequestFields") or {}
    thinking = (extra.get("thinking") or {}).get("type") in (
        "enabled",
        "adaptive",
    ) or "reasoning_config" in extra
    return RequestView(
        model=model,
        stream=stream,
        system="\n".join(system_texts),
        last_user_text=last_text,
        texts=texts,
        tool_names=tools,
        thinking_requested=thinking,
    )


def converse_usage(u: Usage) -> dict[str, int]:
    usage = {
        "inputTokens": u.uncached_input_tokens,
        "outputTokens": u.output_tokens,
        "totalTokens": u.total_tokens,
    }
    if u.cached_tokens:
        usage["cacheReadInputTokens"] = u.cached_tokens
    if u.cache_creation_tokens:
        usage["cacheWriteInputTokens"] = u.cache_creation_tokens
    return usage


def _blocks(answer: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if answer.thinking is not None:
        blocks.append({"reasoningContent": {"reasoningText": {"text": answer.thinking, "signature": SIGNATURE}}})
    if answer.text is not None:
        blocks.append({"text": answer.text})
    if answer.tool_call:
        blocks.append(
            {
                "toolUse": {
                    "toolUseId": new_id("tooluse_"),
                    "name": answer.tool_call.name,
                    "input": answer.tool_call.arguments,
                }
            }
        )
    return blocks


def render_converse(answer: Answer) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": _blocks(answer)}},
        "stopReason": _STOP[answer.stop],
        "usage": converse_usage(answer.usage),
        "metrics": {"latencyMs": 1},
    }


def render_converse_stream(answer: Answer) -> list[bytes]:
    out = [encode_event("messageStart", {"role": "assistant"})]
    for index, block in enumerate(_blocks(answer)):
        ref = {"contentBlockIndex": index}
        if "reasoningContent" in block:
            text = block["reasoningContent"]["reasoningText"]["text"]
            deltas: list[dict[str, Any]] = [{"reasoningContent": {"text": p}} for p in split_text(text)]
            deltas.append({"reasoningContent": {"signature": SIGNATURE}})
        elif "text" in block:
            deltas = [{"text": p} for p in split_text(block["text"])]
        else:
            tool = block["toolUse"]
            out.append(
                encode_event(
                    "contentBlockStart",
                    {"start": {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}, **ref},
                )
            )
            deltas = [{"toolUse": {"input": p}} for p in split_json(answer.arguments_json)]
        out += [encode_event("contentBlockDelta", {"delta": d, **ref}) for d in deltas]
        out.append(encode_event("contentBlockStop", ref))
    out.append(encode_event("messageStop", {"stopReason": _STOP[answer.stop]}))
    out.append(encode_event("metadata", {"usage": converse_usage(answer.usage), "metrics": {"latencyMs": 1}}))
    return out


def invoke_headers(answer: Answer) -> dict[str, str]:
    return {
        "x-amzn-bedrock-input-token-count": str(answer.usage.uncached_input_tokens),
        "x-amzn-bedrock-output-token-count": str(answer.usage.output_tokens),
        "x-amzn-bedrock-invocation-latency": "1",
    }


def render_invoke_stream(answer: Answer) -> list[bytes]:
    """Each Anthropic stream event travels base64-encoded in a `chunk` event; the last one carries
    Bedrock's invocation metrics, as the real service does."""
    events = message_events(answer, ping=False)
    events[-1]["amazon-bedrock-invocationMetrics"] = {
        "inputTokenCount": answer.usage.uncached_input_tokens,
        "outputTokenCount": answer.usage.output_tokens,
        "invocationLatency": 1,
        "firstByteLatency": 1,
    }
    return [encode_event("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()}) for e in events]


def stream_error(message: str | None, _seq: int) -> bytes:
    return encode_exception("internalServerException", message or "The server encountered an internal error.")
