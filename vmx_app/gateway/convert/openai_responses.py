"""OpenAI Responses: client endpoint shape (requests) and provider wire format (requests).

Responses bodies are in openai_responses_output.py, streaming in openai_responses_stream.py; this
module re-exports `parse_response` and `render_response` so each shape has one import.
"""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.capabilities import ModelCaps, guess_caps
from vmx_app.gateway.convert.common import (
    budget_to_effort,
    image_from_url,
    image_url_of,
    keep_thinking,
    native_params,
    reject_raw,
    text_of,
    unsupported,
)
from vmx_app.gateway.convert.openai_responses_output import (  # noqa: F401  (re-exported)
    FOREIGN_REASONING,
    FOREIGN_REDACTED,
    parse_response,
    render_response,
)
from vmx_app.gateway.types import (
    CanonicalRequest,
    ImagePart,
    InvalidRequest,
    Message,
    Part,
    RawPart,
    Reasoning,
    Role,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UnsupportedContent,
)

SHAPE = "openai_responses"
_CANONICAL_KEYS = frozenset(
    {"model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens",
     "temperature", "top_p", "stream", "reasoning", "text", "user", "vmx"}
)
_NATIVE_KEYS = frozenset(
    {"store", "metadata", "service_tier", "prompt_cache_key", "safety_identifier", "include", "truncation",
     "background", "conversation", "previous_response_id", "prompt", "max_tool_calls", "top_logprobs",
     "stream_options", "prompt_cache_retention"}
)


# ---------------------------------------------------------------- endpoint: request


def _parts(content: Any, where: str) -> list[Part]:
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or an array")
    parts: list[Part] = []
    for i, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append(TextPart(item.get("text") or ""))
        elif kind == "refusal":
            parts.append(TextPart(item.get("refusal") or ""))
        elif kind == "input_image" and isinstance(item.get("image_url"), str):
            parts.append(image_from_url(item["image_url"], item.get("detail")))
        elif isinstance(kind, str):
            parts.append(RawPart(SHAPE, kind, item))  # file ids, input_file, input_audio...
        else:
            raise InvalidRequest(f"{where}.content[{i}] needs a `type`")
    return parts


def _assistant(req: CanonicalRequest) -> Message:
    """Reasoning, assistant text and function calls of one turn share one canonical message."""
    if not req.messages or req.messages[-1].role is not Role.ASSISTANT:
        req.messages.append(Message(Role.ASSISTANT))
    return req.messages[-1]


def _reasoning_item(item: dict[str, Any]) -> ThinkingPart:
    item_id = item.get("id") or ""
    text = "".join(s.get("text", "") for s in item.get("summary") or [] if isinstance(s, dict))
    encrypted = item.get("encrypted_content")
    if item_id.startswith(FOREIGN_REDACTED):
        return ThinkingPart(redacted=encrypted, id=item_id, origin="vmx")
    if item_id.startswith(FOREIGN_REASONING):  # signed by Anthropic/Bedrock, rendered by us
        return ThinkingPart(text, encrypted, id=item_id, origin="vmx")
    return ThinkingPart(text, encrypted, id=item_id, origin=SHAPE)


def _input_item(req: CanonicalRequest, item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise InvalidRequest(f"{where} must be an object")
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        parts = _parts(item.get("content"), where)
        if role in ("system", "developer"):
            req.system.extend(p for p in parts if isinstance(p, TextPart))
        elif role == "user":
            req.messages.append(Message(Role.USER, parts))
        elif role == "assistant":
            _assistant(req).content.extend(p for p in parts if not (isinstance(p, TextPart) and not p.text))
        else:
            raise InvalidRequest(f"{where}.role {role!r} is not supported")
    elif kind == "function_call":
        _assistant(req).content.append(ToolCallPart(item.get("call_id") or "", item.get("name") or "",
                                                    item.get("arguments") or "{}"))
    elif kind == "function_call_output":
        output = item.get("output")
        content = [p for p in _parts(output if output is not None else "", where)
                   if isinstance(p, TextPart | ImagePart | RawPart)]
        req.messages.append(Message(Role.TOOL, [ToolResultPart(item.get("call_id") or "", content)]))
    elif kind == "reasoning":
        _assistant(req).content.append(_reasoning_item(item))
    else:  # item_reference, built-in tool calls and their outputs
        _assistant(req).content.append(RawPart(SHAPE, kind, item))


def parse_request(body: dict[str, Any]) -> CanonicalRequest:
    req = CanonicalRequest(model=body.get("model"), native_shape=SHAPE, stream_include_usage=True)
    if isinstance(body.get("instructions"), str):
        req.system.append(TextPart(body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        req.messages.append(Message(Role.USER, [TextPart(items)]))
    elif isinstance(items, list):
        for i, item in enumerate(items):
            _input_item(req, item, f"input[{i}]")
    elif items is not None:
        raise InvalidRequest("`input` must be a string or an array of items")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict):
            raise InvalidRequest(f"tools[{i}] must be an object")
        if tool.get("type") == "function" and tool.get("name"):
            req.tools.append(Tool(tool["name"], tool.get("description"),
                                  tool.get("parameters") or {"type": "object", "properties": {}}, tool.get("strict")))
        else:
            req.tools.append(Tool(str(tool.get("type")), raw=RawPart(SHAPE, f"tool '{tool.get('type')}'", tool)))
    choice = body.get("tool_choice")
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise InvalidRequest(f"unknown tool_choice {choice!r}")
        req.tool_choice = ToolChoice(choice)  # type: ignore[arg-type]
    elif isinstance(choice, dict):
        if choice.get("type") != "function":
            raise UnsupportedContent(f"tool_choice type {choice.get('type')!r} is not supported")
        req.tool_choice = ToolChoice("tool", choice.get("name"))
    req.parallel_tool_calls = body.get("parallel_tool_calls")
    req.max_tokens = body.get("max_output_tokens")
    req.temperature, req.top_p = body.get("temperature"), body.get("top_p")
    req.stream = bool(body.get("stream"))
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and (reasoning.get("effort") or reasoning.get("summary")):
        effort = reasoning.get("effort")
        req.reasoning = Reasoning(enabled=effort != "none", effort=effort, summary=reasoning.get("summary"))
    text = body.get("text") or {}
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        req.response_format = {"type": "json_schema", "json_schema": schema}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        req.response_format = {"type": "json_object"}
    req.user = body.get("user")
    req.native = {k: v for k, v in body.items() if k in _NATIVE_KEYS}
    if isinstance(text, dict) and text.get("verbosity"):
        req.native["verbosity"] = text["verbosity"]
    req.extra = {k: v for k, v in body.items() if k not in _CANONICAL_KEYS and k not in _NATIVE_KEYS}
    return req


# ---------------------------------------------------------------- provider: request


def _content(parts: list[Part], target: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in parts:
        if isinstance(p, TextPart):
            out.append({"type": "input_text", "text": p.text})
        elif isinstance(p, ImagePart):
            out.append({"type": "input_image", "image_url": image_url_of(p), "detail": p.detail or "auto"})
        elif isinstance(p, RawPart) and p.shape == SHAPE:
            out.append(p.data)
        else:
            reject_raw(p, target)
            raise unsupported(type(p).__name__, target)
    return out


def _items(req: CanonicalRequest, target: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for msg in req.messages:
        if msg.role is Role.USER:
            items.append({"type": "message", "role": "user", "content": _content(msg.content, target)})
            continue
        if msg.role is Role.SYSTEM:  # a system turn keeps its place, as a developer message
            items.append({"type": "message", "role": "developer", "content": text_of(msg.content)})
            continue
        for p in msg.content:
            if isinstance(p, ToolResultPart):
                output: Any = text_of(p.content)
                if any(not isinstance(c, TextPart) for c in p.content):
                    output = _content(list(p.content), target)
                items.append({"type": "function_call_output", "call_id": p.tool_call_id, "output": output})
            elif isinstance(p, ToolCallPart):
                items.append({"type": "function_call", "call_id": p.id, "name": p.name, "arguments": p.arguments})
            elif isinstance(p, ThinkingPart):
                if keep_thinking(p, SHAPE):
                    items.append({"type": "reasoning", "id": p.id, "encrypted_content": p.signature,
                                  "summary": [{"type": "summary_text", "text": p.text}] if p.text else []})
            elif isinstance(p, TextPart):
                if p.text:
                    items.append({"type": "message", "role": "assistant", "content": p.text})
            elif isinstance(p, RawPart) and p.shape == SHAPE:
                items.append(p.data)
            else:
                reject_raw(p, target)
                raise unsupported(f"{type(p).__name__} in an {msg.role.value} message", target)
    return items


def build_request(req: CanonicalRequest, model: str, caps: ModelCaps | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    target = SHAPE
    body: dict[str, Any] = {"model": model}
    if req.system:
        body["instructions"] = "\n\n".join(p.text for p in req.system)
    body["input"] = _items(req, target)
    if req.tools:
        tools = []
        for t in req.tools:
            if t.raw is not None:
                if t.raw.shape != SHAPE:
                    raise unsupported(t.raw.kind, target)
                tools.append(t.raw.data)
                continue
            # Responses treats an unspecified `strict` as true, which rejects most hand-written schemas.
            tool = {"type": "function", "name": t.name, "parameters": t.parameters, "strict": bool(t.strict)}
            if t.description:
                tool["description"] = t.description
            tools.append(tool)
        body["tools"] = tools
        if req.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.tool_choice is not None:
        tc = req.tool_choice
        body["tool_choice"] = {"type": "function", "name": tc.name} if tc.mode == "tool" else tc.mode
    if req.stop:
        raise unsupported("stop sequences", target)
    for key, value in (("max_output_tokens", req.max_tokens), ("temperature", req.temperature),
                       ("top_p", req.top_p), ("user", req.user)):
        if value is not None:
            body[key] = value
    r = req.reasoning
    if r is not None and r.enabled and not (caps or guess_caps("openai", model)).reasoning:
        if notes is not None:
            notes.append(f"reasoning dropped: model {model!r} does not reason")
    elif r is not None and r.enabled:
        body["reasoning"] = {"effort": r.effort or budget_to_effort(r.budget_tokens)}
        if r.summary or r.budget_tokens is not None:  # thinking clients expect to see the reasoning
            body["reasoning"]["summary"] = r.summary or "auto"
    native = native_params(req.native, req.native_shape, SHAPE,
                           frozenset({"metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier",
                                      "verbosity", "prompt_cache_retention"}))
    text: dict[str, Any] = {}
    if req.response_format is not None:
        fmt = req.response_format
        if fmt.get("type") == "json_schema":
            text["format"] = {"type": "json_schema", **(fmt.get("json_schema") or {})}
        else:
            text["format"] = {"type": fmt.get("type")}
    if native.get("verbosity"):
        text["verbosity"] = native.pop("verbosity")
    if text:
        body["text"] = text
    if req.stream:
        body["stream"] = True  # usage always arrives in response.completed
    body.update(native)
    body.update(req.extra)
    return body
