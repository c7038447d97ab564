"""Anthropic Messages: client endpoint shape and provider wire format (Anthropic and Bedrock InvokeModel).

Blocks only Anthropic understands (documents, server tools, MCP...) become RawPart: they survive an
Anthropic -> Anthropic conversion and raise UnsupportedContent anywhere else. Streaming lives in
anthropic_stream.py.
"""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.anthropic_options import (
    apply_options,
    parse_thinking_and_output,
    system_turn,
    unwrap_structured,
)
from vmx_app.gateway.convert.capabilities import ModelCaps, guess_caps
from vmx_app.gateway.convert.common import (
    arguments_object,
    dump_arguments,
    fold_system_turns,
    keep_thinking,
    merge_same_role,
    native_params,
    new_id,
    parse_arguments,
    portable_signature,
    reject_raw,
    turn_role,
    unsupported,
)
from vmx_app.gateway.convert.usage import anthropic_usage, render_anthropic_usage
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalResponse,
    ImagePart,
    InvalidRequest,
    Message,
    Part,
    RawPart,
    Role,
    StopReason,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

SHAPE = "anthropic"
BEDROCK_VERSION = "bedrock-2023-05-31"
_CANONICAL_KEYS = frozenset(
    {"model", "messages", "system", "tools", "tool_choice", "max_tokens", "temperature", "top_p", "top_k",
     "stop_sequences", "stream", "thinking", "anthropic_version", "output_config", "vmx"}
)
_NATIVE_KEYS = frozenset(
    {"metadata", "service_tier", "container", "mcp_servers", "context_management", "inference_geo"}
)
STOP_MAP = {
    "end_turn": StopReason.END_TURN,
    "pause_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "model_context_window_exceeded": StopReason.MAX_TOKENS,
    "stop_sequence": StopReason.STOP_SEQUENCE,
    "tool_use": StopReason.TOOL_USE,
    "refusal": StopReason.CONTENT_FILTER,
}
STOP_RENDER = {
    StopReason.END_TURN: "end_turn",
    StopReason.MAX_TOKENS: "max_tokens",
    StopReason.STOP_SEQUENCE: "stop_sequence",
    StopReason.TOOL_USE: "tool_use",
    StopReason.CONTENT_FILTER: "refusal",
    StopReason.ERROR: "end_turn",
}


# ---------------------------------------------------------------- blocks -> parts


def _image(block: dict[str, Any]) -> Part:
    source = block.get("source") or {}
    kind = source.get("type")
    if kind == "base64":
        return ImagePart(data=source.get("data"), media_type=source.get("media_type"),
                         cache_control=block.get("cache_control"))
    if kind == "url":
        return ImagePart(url=source.get("url"), cache_control=block.get("cache_control"))
    return RawPart(SHAPE, f"image source '{kind}'", block)


def parse_block(block: Any, where: str, origin: str = SHAPE) -> Part:
    if not isinstance(block, dict) or "type" not in block:
        raise InvalidRequest(f"{where} must be a content block object with a `type`")
    kind = block["type"]
    if kind == "text":
        return TextPart(block.get("text") or "", block.get("cache_control"))
    if kind == "image":
        return _image(block)
    if kind == "tool_use":
        return ToolCallPart(block.get("id") or new_id("toolu_"), block.get("name") or "",
                            dump_arguments(block.get("input")), block.get("cache_control"))
    if kind == "thinking":
        return ThinkingPart(block.get("thinking") or "", block.get("signature"), origin=origin)
    if kind == "redacted_thinking":
        return ThinkingPart(redacted=block.get("data"), origin=origin)
    if kind == "tool_result":
        content = block.get("content")
        items: list[TextPart | ImagePart | RawPart] = []
        if isinstance(content, str):
            items.append(TextPart(content))
        for j, sub in enumerate(content if isinstance(content, list) else []):
            part = parse_block(sub, f"{where}.content[{j}]")
            items.append(part if isinstance(part, TextPart | ImagePart | RawPart) else RawPart(SHAPE, sub["type"], sub))
        return ToolResultPart(block.get("tool_use_id") or "", items, bool(block.get("is_error")),
                              block.get("cache_control"))
    return RawPart(SHAPE, kind, block)


def _content(content: Any, where: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or an array of blocks")
    return [parse_block(b, f"{where}.content[{i}]") for i, b in enumerate(content)]


# ---------------------------------------------------------------- endpoint: request


def parse_request(body: dict[str, Any]) -> CanonicalRequest:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequest("`messages` must be an array")
    req = CanonicalRequest(model=body.get("model"), native_shape=SHAPE)
    system = body.get("system")
    if isinstance(system, str):
        req.system.append(TextPart(system))
    elif isinstance(system, list):
        for i, block in enumerate(system):
            part = parse_block(block, f"system[{i}]")
            if not isinstance(part, TextPart):
                raise InvalidRequest(f"system[{i}] must be a text block")
            req.system.append(part)
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if isinstance(msg, dict) and msg.get("role") == "system":
            req.messages.append(system_turn(msg.get("content"), where))
            continue
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise InvalidRequest(f"{where}.role must be 'user', 'assistant' or 'system'")
        parts = _content(msg.get("content"), where)
        if msg["role"] == "assistant":
            req.messages.append(Message(Role.ASSISTANT, parts))
            continue
        # Tool results become their own tool turn, ahead of whatever else the user turn says.
        results = [p for p in parts if isinstance(p, ToolResultPart)]
        rest = [p for p in parts if not isinstance(p, ToolResultPart)]
        if results:
            req.messages.append(Message(Role.TOOL, list(results)))
        if rest or not results:
            req.messages.append(Message(Role.USER, rest))
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or not tool.get("name"):
            raise InvalidRequest(f"tools[{i}] needs a name")
        if tool.get("type") not in (None, "custom"):
            req.tools.append(Tool(tool["name"], raw=RawPart(SHAPE, f"tool '{tool['type']}'", tool)))
            continue
        req.tools.append(Tool(tool["name"], tool.get("description"),
                              tool.get("input_schema") or {"type": "object", "properties": {}},
                              tool.get("strict"), tool.get("cache_control")))
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        mode = {"auto": "auto", "any": "required", "tool": "tool", "none": "none"}.get(choice.get("type", ""))
        if mode is None:
            raise InvalidRequest(f"unknown tool_choice type {choice.get('type')!r}")
        req.tool_choice = ToolChoice(mode, choice.get("name"))  # type: ignore[arg-type]
        if choice.get("disable_parallel_tool_use") is not None:
            req.parallel_tool_calls = not choice["disable_parallel_tool_use"]
    req.max_tokens = body.get("max_tokens")
    req.temperature, req.top_p, req.top_k = body.get("temperature"), body.get("top_p"), body.get("top_k")
    req.stop = list(body.get("stop_sequences") or [])
    req.stream = bool(body.get("stream"))
    req.stream_include_usage = True
    user_id = (body.get("metadata") or {}).get("user_id")
    req.user = user_id if isinstance(user_id, str) else None
    req.native = {k: v for k, v in body.items() if k in _NATIVE_KEYS}
    parse_thinking_and_output(req, body)
    req.extra = {k: v for k, v in body.items() if k not in _CANONICAL_KEYS and k not in _NATIVE_KEYS}
    return req


# ---------------------------------------------------------------- provider: request


def _with_cache(block: dict[str, Any], cache_control: dict[str, Any] | None) -> dict[str, Any]:
    if cache_control:
        block["cache_control"] = cache_control
    return block


def render_block(part: Part, target: str) -> dict[str, Any] | None:
    """One canonical part as an Anthropic content block (None: nothing to send)."""
    if isinstance(part, TextPart):
        return _with_cache({"type": "text", "text": part.text}, part.cache_control) if part.text else None
    if isinstance(part, ImagePart):
        source = ({"type": "base64", "media_type": part.media_type or "image/png", "data": part.data}
                  if part.data is not None else {"type": "url", "url": part.url})
        return _with_cache({"type": "image", "source": source}, part.cache_control)
    if isinstance(part, ToolCallPart):
        block = {"type": "tool_use", "id": part.id, "name": part.name,
                 "input": parse_arguments(part.arguments, f"tool call {part.id}")}
        return _with_cache(block, part.cache_control)
    if isinstance(part, ThinkingPart):
        if not keep_thinking(part, SHAPE):
            return None
        if part.redacted:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    if isinstance(part, ToolResultPart):
        content = [b for b in (render_block(c, target) for c in part.content) if b is not None]
        block = {"type": "tool_result", "tool_use_id": part.tool_call_id, "content": content}
        if part.is_error:
            block["is_error"] = True
        return _with_cache(block, part.cache_control)
    if part.shape == SHAPE:
        return part.data
    reject_raw(part, target)
    return None


def build_messages(req: CanonicalRequest, target: str) -> list[dict[str, Any]]:
    turns = []
    for msg in fold_system_turns([], req.messages)[1]:
        blocks = [b for b in (render_block(p, target) for p in msg.content) if b is not None]
        turns.append((turn_role(msg), blocks))
    return [{"role": role, "content": blocks} for role, blocks in merge_same_role(turns)]


def build_request(req: CanonicalRequest, model: str, bedrock: bool = False, caps: ModelCaps | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """Anthropic Messages body; `bedrock=True` gives the Bedrock InvokeModel body for Claude.
    Parameters the model cannot take are left out and said in `notes` (the audit row's events)."""
    target = "bedrock-invoke" if bedrock else SHAPE
    body: dict[str, Any] = {"model": model}
    system = fold_system_turns(req.system, req.messages)[0]
    if system:
        if len(system) == 1 and not system[0].cache_control:
            body["system"] = system[0].text
        else:
            body["system"] = [_with_cache({"type": "text", "text": p.text}, p.cache_control) for p in system]
    body["messages"] = build_messages(req, target)
    if req.tools:
        body["tools"] = [_tool(t, target, req.native_shape == SHAPE) for t in req.tools]
    choice = _tool_choice(req)
    if choice is not None:
        body["tool_choice"] = choice
    for key, value in (("temperature", req.temperature), ("top_p", req.top_p), ("top_k", req.top_k)):
        if value is not None:
            body[key] = value
    if req.stop:
        body["stop_sequences"] = req.stop
    apply_options(req, body, caps or guess_caps("anthropic", model), [] if notes is None else notes)
    if req.stream:
        body["stream"] = True
    native = native_params(req.native, req.native_shape, SHAPE)
    for key in ("thinking", "effort", "output_config"):  # placed by apply_options
        native.pop(key, None)
    if req.user and not bedrock:  # Bedrock rejects `metadata` as an extraneous key
        native["metadata"] = {**(native.get("metadata") or {}), "user_id": req.user}
    body.update(native)
    body.update(req.extra)
    return to_bedrock_invoke(body) if bedrock else body


def to_bedrock_invoke(body: dict[str, Any]) -> dict[str, Any]:
    """Anthropic Messages body -> Bedrock InvokeModel body: the model and stream flag move to the URL."""
    out = {k: v for k, v in body.items() if k not in ("model", "stream")}
    out["anthropic_version"] = BEDROCK_VERSION
    return out


def _tool(tool: Tool, target: str, native_strict: bool) -> dict[str, Any]:
    if tool.raw is not None:
        if tool.raw.shape != SHAPE:
            raise unsupported(tool.raw.kind, target)
        return tool.raw.data
    out: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
    if tool.description:
        out["description"] = tool.description
    if tool.strict is not None and native_strict:  # strict tools are opt-in on Anthropic: never imply them
        out["strict"] = tool.strict
    return _with_cache(out, tool.cache_control)


def _tool_choice(req: CanonicalRequest) -> dict[str, Any] | None:
    choice = req.tool_choice
    if choice is None and (req.parallel_tool_calls is not False or not req.tools):
        return None
    mode = choice.mode if choice else "auto"
    out: dict[str, Any] = {"type": {"auto": "auto", "none": "none", "required": "any", "tool": "tool"}[mode]}
    if mode == "tool":
        out["name"] = choice.name if choice else None
    if req.parallel_tool_calls is False and mode != "none":
        out["disable_parallel_tool_use"] = True
    return out


# ---------------------------------------------------------------- responses


def parse_response(body: dict[str, Any]) -> CanonicalResponse:
    content = [parse_block(b, f"content[{i}]") for i, b in enumerate(body.get("content") or [])]
    stop = STOP_MAP.get(body.get("stop_reason") or "end_turn", StopReason.END_TURN)
    content, stop = unwrap_structured(content, stop)
    return CanonicalResponse(
        id=body.get("id") or new_id("msg_"),
        model=body.get("model") or "",
        content=content,
        stop_reason=stop,
        stop_sequence=body.get("stop_sequence"),
        usage=anthropic_usage(body.get("usage")),
    )


def render_content(content: list[Part]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, ThinkingPart):
            if part.redacted and part.origin != "openai_responses":
                out.append({"type": "redacted_thinking", "data": part.redacted})
            else:
                out.append({"type": "thinking", "thinking": part.text, "signature": portable_signature(part) or ""})
        elif isinstance(part, TextPart):
            if part.text:
                out.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            out.append({"type": "tool_use", "id": part.id, "name": part.name,
                        "input": arguments_object(part.arguments)})
        else:
            block = render_block(part, "the anthropic messages endpoint")
            if block is not None:
                out.append(block)
    return out


def render_response(resp: CanonicalResponse) -> dict[str, Any]:
    return {
        "id": resp.id,
        "type": "message",
        "role": "assistant",
        "model": resp.model,
        "content": render_content(resp.content),
        "stop_reason": STOP_RENDER[resp.stop_reason],
        "stop_sequence": resp.stop_sequence,
        "usage": render_anthropic_usage(resp.usage),
    }
