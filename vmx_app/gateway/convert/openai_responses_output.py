"""OpenAI Responses bodies: provider response -> canonical, canonical -> endpoint `response` object."""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.common import new_id, now, portable_signature, reject_raw
from vmx_app.gateway.convert.usage import render_responses_usage, responses_usage
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalResponse,
    Part,
    RawPart,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    Usage,
)

SHAPE = "openai_responses"
# Reasoning items we mint for Anthropic/Bedrock thinking: their encrypted_content is that provider's
# signature (or redacted data), so a client can hand it back and we return it to the right family.
FOREIGN_REASONING = "rs_vmx_"
FOREIGN_REDACTED = "rs_vmxr_"
INCOMPLETE_REASON = {StopReason.MAX_TOKENS: "max_output_tokens", StopReason.CONTENT_FILTER: "content_filter"}
_INCOMPLETE_STOP = {"max_output_tokens": StopReason.MAX_TOKENS, "content_filter": StopReason.CONTENT_FILTER}


def stop_from_status(body: dict[str, Any], has_tool_calls: bool) -> StopReason:
    status = body.get("status")
    if status == "incomplete":
        reason = (body.get("incomplete_details") or {}).get("reason")
        return _INCOMPLETE_STOP.get(reason or "", StopReason.MAX_TOKENS)
    if status == "failed":
        return StopReason.ERROR
    return StopReason.TOOL_USE if has_tool_calls else StopReason.END_TURN


def parse_item(item: dict[str, Any]) -> list[Part]:
    kind = item.get("type")
    if kind == "message":
        parts: list[Part] = []
        for c in item.get("content") or []:
            text = c.get("text") if c.get("type") == "output_text" else c.get("refusal")
            if text:
                parts.append(TextPart(text))
        return parts
    if kind == "function_call":
        return [ToolCallPart(item.get("call_id") or "", item.get("name") or "", item.get("arguments") or "{}")]
    if kind == "reasoning":
        chunks = item.get("summary") or item.get("content") or []
        text = "\n\n".join(c.get("text", "") for c in chunks if isinstance(c, dict))
        return [ThinkingPart(text, item.get("encrypted_content"), id=item.get("id"), origin=SHAPE)]
    return [RawPart(SHAPE, str(kind), item)]


def parse_response(body: dict[str, Any]) -> CanonicalResponse:
    content = [p for item in body.get("output") or [] if isinstance(item, dict) for p in parse_item(item)]
    return CanonicalResponse(
        id=body.get("id") or new_id("resp_"),
        model=body.get("model") or "",
        content=content,
        stop_reason=stop_from_status(body, any(isinstance(p, ToolCallPart) for p in content)),
        usage=responses_usage(body.get("usage")),
        created=int(body["created_at"]) if isinstance(body.get("created_at"), int | float) else None,
    )


# ---------------------------------------------------------------- endpoint rendering


def reasoning_item(part: ThinkingPart, item_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    item: dict[str, Any] = {"type": "reasoning", "id": item_id or part.id or "", "status": status,
                            "summary": [{"type": "summary_text", "text": part.text}] if part.text else []}
    if part.redacted and part.origin != SHAPE:
        item["id"] = item_id or new_id(FOREIGN_REDACTED)
        item["encrypted_content"] = part.redacted
    elif part.origin == SHAPE:
        item["encrypted_content"] = part.signature
    else:
        signature = portable_signature(part)
        item["id"] = item_id or new_id(FOREIGN_REASONING)
        if signature:
            item["encrypted_content"] = signature
    return item


def message_item(item_id: str, texts: list[str], status: str = "completed") -> dict[str, Any]:
    return {"type": "message", "id": item_id, "role": "assistant", "status": status,
            "content": [{"type": "output_text", "text": t, "annotations": []} for t in texts]}


def call_item(item_id: str, call: ToolCallPart, status: str = "completed") -> dict[str, Any]:
    return {"type": "function_call", "id": item_id, "call_id": call.id, "name": call.name,
            "arguments": call.arguments, "status": status}


def output_items(content: list[Part]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            items.append(message_item(new_id("msg_"), ["".join(texts)]))
            texts.clear()

    for part in content:
        if isinstance(part, TextPart):
            texts.append(part.text)
            continue
        flush()
        if isinstance(part, ThinkingPart):
            items.append(reasoning_item(part))
        elif isinstance(part, ToolCallPart):
            items.append(call_item(new_id("fc_"), part))
        elif isinstance(part, RawPart) and part.shape == SHAPE:
            items.append(part.data)
        else:
            reject_raw(part, "the responses endpoint")
    flush()
    return items


def echo_tools(request: CanonicalRequest | None) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for t in request.tools if request else []:
        if t.raw is not None and t.raw.shape == SHAPE:
            tools.append(t.raw.data)
        elif t.raw is None:
            tools.append({"type": "function", "name": t.name, "description": t.description,
                          "parameters": t.parameters, "strict": bool(t.strict)})
    return tools


def response_object(*, id: str, model: str, created_at: int, status: str, output: list[dict[str, Any]],
                    usage: Usage | None, request: CanonicalRequest | None = None,
                    stop: StopReason | None = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `response` object of the Responses API, echoing request settings the SDK type requires."""
    choice = request.tool_choice if request else None
    reason = INCOMPLETE_REASON.get(stop) if stop is not None else None
    return {
        "id": id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "model": model,
        "output": output,
        "error": error,
        "incomplete_details": {"reason": reason} if status == "incomplete" else None,
        "instructions": "\n\n".join(p.text for p in request.system) if request and request.system else None,
        "max_output_tokens": request.max_tokens if request else None,
        "parallel_tool_calls": request.parallel_tool_calls is not False if request else True,
        "temperature": request.temperature if request else None,
        "top_p": request.top_p if request else None,
        "tool_choice": ({"type": "function", "name": choice.name} if choice and choice.mode == "tool"
                        else choice.mode if choice else "auto"),
        "tools": echo_tools(request),
        "text": {"format": {"type": "text"}},
        "metadata": {},
        "usage": render_responses_usage(usage) if usage is not None else None,
    }


def status_of(stop: StopReason) -> str:
    if stop is StopReason.ERROR:
        return "failed"
    return "incomplete" if stop in INCOMPLETE_REASON else "completed"


def render_response(resp: CanonicalResponse, request: CanonicalRequest | None = None) -> dict[str, Any]:
    return response_object(
        id=resp.id, model=resp.model, created_at=resp.created or now(), status=status_of(resp.stop_reason),
        output=output_items(resp.content), usage=resp.usage, request=request, stop=resp.stop_reason,
    )
