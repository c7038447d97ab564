"""AWS Bedrock Converse wire format (provider side only): requests, responses and ConverseStream events.

Bodies are the JSON of the REST API (`POST /model/{modelId}/converse[-stream]`): the model id goes in
the URL and binary fields (image bytes, redacted reasoning) are base64 strings.
"""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.common import (
    dump_arguments,
    effort_to_budget,
    fold_system_turns,
    keep_thinking,
    merge_same_role,
    native_params,
    new_id,
    parse_arguments,
    reject_raw,
    turn_role,
    unsupported,
)
from vmx_app.gateway.convert.usage import converse_usage
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalResponse,
    ImagePart,
    Part,
    RawPart,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
)

SHAPE = "bedrock_converse"
TARGET = "Bedrock Converse"
_CACHE_POINT = {"cachePoint": {"type": "default"}}
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
STOP_MAP = {
    "end_turn": StopReason.END_TURN,
    "tool_use": StopReason.TOOL_USE,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "guardrail_intervened": StopReason.CONTENT_FILTER,
    "content_filtered": StopReason.CONTENT_FILTER,
}


def _image(part: ImagePart) -> dict[str, Any]:
    if part.data is None:
        raise unsupported("an image URL (Converse takes inline base64 image bytes only)", TARGET)
    fmt = _FORMATS.get((part.media_type or "").lower())
    if fmt is None:
        raise unsupported(f"image type {part.media_type!r}", TARGET)
    return {"image": {"format": fmt, "source": {"bytes": part.data}}}


def _blocks(part: Part) -> list[dict[str, Any]]:
    """Converse blocks for one part; a prompt-cache marker becomes a trailing cachePoint block."""
    cache = getattr(part, "cache_control", None)
    if isinstance(part, TextPart):
        out = [{"text": part.text}] if part.text else []
    elif isinstance(part, ImagePart):
        out = [_image(part)]
    elif isinstance(part, ToolCallPart):
        out = [{"toolUse": {"toolUseId": part.id, "name": part.name,
                            "input": parse_arguments(part.arguments, f"tool call {part.id}")}}]
    elif isinstance(part, ToolResultPart):
        content: list[dict[str, Any]] = []
        for c in part.content:
            reject_raw(c, TARGET)
            content.extend(_blocks(c))
        result: dict[str, Any] = {"toolUseId": part.tool_call_id, "content": content or [{"text": ""}]}
        if part.is_error:
            result["status"] = "error"
        out = [{"toolResult": result}]
    elif isinstance(part, ThinkingPart):
        if not keep_thinking(part, SHAPE):
            return []
        if part.redacted:
            return [{"reasoningContent": {"redactedContent": part.redacted}}]
        return [{"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}]
    else:
        reject_raw(part, TARGET)
        return []
    return [*out, _CACHE_POINT] if cache and out else out


def _tool_config(req: CanonicalRequest) -> dict[str, Any] | None:
    if not req.tools:
        return None
    history_has_tools = any(isinstance(p, ToolCallPart | ToolResultPart) for m in req.messages for p in m.content)
    choice = req.tool_choice
    if choice is not None and choice.mode == "none" and not history_has_tools:
        return None  # Converse has no "none": offering no tools is the same thing
    tools: list[dict[str, Any]] = []
    for t in req.tools:
        if t.raw is not None:
            raise unsupported(t.raw.kind, TARGET)
        spec: dict[str, Any] = {"name": t.name, "inputSchema": {"json": t.parameters}}
        if t.description:
            spec["description"] = t.description
        tools.append({"toolSpec": spec})
        if t.cache_control:
            tools.append(_CACHE_POINT)
    config: dict[str, Any] = {"tools": tools}
    if choice is not None and choice.mode != "none":
        config["toolChoice"] = {"auto": {"auto": {}}, "required": {"any": {}},
                                "tool": {"tool": {"name": choice.name}}}[choice.mode]
    return config


def build_request(req: CanonicalRequest, model: str) -> dict[str, Any]:
    """Converse body for `model` (a Bedrock model or inference-profile id, which goes in the URL)."""
    body: dict[str, Any] = {}
    system: list[dict[str, Any]] = []
    system_parts, messages = fold_system_turns(req.system, req.messages)
    for p in system_parts:
        system.extend(_blocks(p))
    if system:
        body["system"] = system
    turns = [(turn_role(m), [b for p in m.content for b in _blocks(p)]) for m in messages]
    body["messages"] = [{"role": r, "content": c} for r, c in merge_same_role(turns)]
    inference: dict[str, Any] = {}
    for key, value in (("maxTokens", req.max_tokens), ("temperature", req.temperature), ("topP", req.top_p)):
        if value is not None:
            inference[key] = value
    if req.stop:
        inference["stopSequences"] = req.stop
    additional: dict[str, Any] = {}
    if req.reasoning is not None and req.reasoning.enabled:
        if "anthropic" not in model and "claude" not in model:
            raise unsupported("reasoning for a non-Claude model", TARGET)
        budget = req.reasoning.budget_tokens or effort_to_budget(req.reasoning.effort)
        additional["thinking"] = {"type": "enabled", "budget_tokens": budget}
        if inference.get("maxTokens", 0) <= budget:  # Claude needs room for the answer after thinking
            inference["maxTokens"] = budget + (req.max_tokens or 4096)
    if req.top_k is not None:
        additional["top_k"] = req.top_k  # Bedrock hands these fields to the model's native request
    if inference:
        body["inferenceConfig"] = inference
    tool_config = _tool_config(req)
    if tool_config:
        body["toolConfig"] = tool_config
    if req.response_format is not None:
        raise unsupported(f"response_format '{req.response_format.get('type')}'", TARGET)
    native_params(req.native, req.native_shape, SHAPE)  # raises for parameters that change the output
    extra = dict(req.extra)
    if additional:
        body["additionalModelRequestFields"] = {**additional, **(extra.pop("additionalModelRequestFields", {}))}
    body.update(extra)
    return body


# ---------------------------------------------------------------- responses


def parse_block(block: dict[str, Any]) -> Part:
    if "text" in block:
        return TextPart(block["text"])
    if "toolUse" in block:
        use = block["toolUse"]
        return ToolCallPart(use.get("toolUseId") or new_id("tooluse_"), use.get("name") or "",
                            dump_arguments(use.get("input")))
    if "reasoningContent" in block:
        rc = block["reasoningContent"]
        if "redactedContent" in rc:
            return ThinkingPart(redacted=rc["redactedContent"], origin=SHAPE)
        text = rc.get("reasoningText") or {}
        return ThinkingPart(text.get("text") or "", text.get("signature"), origin=SHAPE)
    if "image" in block and isinstance(block["image"].get("source", {}).get("bytes"), str):
        img = block["image"]
        return ImagePart(data=img["source"]["bytes"], media_type=_MEDIA.get(img.get("format", ""), "image/png"))
    return RawPart(SHAPE, next(iter(block), "unknown"), block)


def parse_response(body: dict[str, Any], model: str = "", id: str | None = None) -> CanonicalResponse:
    message = (body.get("output") or {}).get("message") or {}
    return CanonicalResponse(
        id=id or new_id("msg_"),  # Converse bodies carry no id; callers may pass x-amzn-RequestId
        model=model,
        content=[parse_block(b) for b in message.get("content") or []],
        stop_reason=STOP_MAP.get(body.get("stopReason") or "end_turn", StopReason.END_TURN),
        usage=converse_usage(body.get("usage")),
        extra={k: body[k] for k in ("additionalModelResponseFields", "trace") if body.get(k)},
    )
