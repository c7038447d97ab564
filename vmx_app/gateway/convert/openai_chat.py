"""OpenAI Chat Completions: client endpoint shape and provider wire format.

Also the wire of Groq, Gemini's OpenAI-compatible endpoint, Perplexity and openai-compatible
servers; `build_request(..., provider=...)` adapts the few fields where they differ.
Streaming lives in openai_chat_stream.py.
"""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.capabilities import ModelCaps, guess_caps
from vmx_app.gateway.convert.common import (
    budget_to_effort,
    image_from_url,
    image_url_of,
    native_params,
    new_id,
    now,
    reject_raw,
    text_of,
    unsupported,
)
from vmx_app.gateway.convert.usage import chat_usage, render_chat_usage
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalResponse,
    ImagePart,
    InvalidRequest,
    Message,
    Part,
    ProviderResponseError,
    RawPart,
    Reasoning,
    Role,
    StopReason,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    UnsupportedContent,
)

SHAPE = "openai_chat"
_CANONICAL_KEYS = frozenset(
    {"model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens",
     "temperature", "top_p", "stop", "stream", "stream_options", "reasoning_effort", "response_format", "user",
     "vmx"}
)
_NATIVE_KEYS = frozenset(
    {"seed", "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "n", "store",
     "metadata", "service_tier", "modalities", "audio", "prediction", "web_search_options", "prompt_cache_key",
     "safety_identifier", "verbosity", "functions", "function_call", "prompt_cache_retention"}
)
# Perplexity answers carry these next to `choices`; they are kept and rendered back.
PROVIDER_EXTRAS = ("citations", "search_results", "images", "related_questions")
FINISH_TO_STOP = {
    "stop": StopReason.END_TURN,
    "length": StopReason.MAX_TOKENS,
    "tool_calls": StopReason.TOOL_USE,
    "function_call": StopReason.TOOL_USE,
    "content_filter": StopReason.CONTENT_FILTER,
}
STOP_TO_FINISH = {
    StopReason.END_TURN: "stop",
    StopReason.STOP_SEQUENCE: "stop",
    StopReason.MAX_TOKENS: "length",
    StopReason.TOOL_USE: "tool_calls",
    StopReason.CONTENT_FILTER: "content_filter",
    StopReason.ERROR: "stop",
}


# ---------------------------------------------------------------- endpoint: request


def _user_parts(content: Any, where: str) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)]
    if not isinstance(content, list):
        raise InvalidRequest(f"{where}.content must be a string or an array of parts")
    parts: list[Part] = []
    for i, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text":
            parts.append(TextPart(item.get("text") or ""))
        elif kind == "refusal":
            parts.append(TextPart(item.get("refusal") or ""))
        elif kind == "image_url":
            img = item.get("image_url")
            url = img.get("url") if isinstance(img, dict) else img
            if not isinstance(url, str) or not url:
                raise InvalidRequest(f"{where}.content[{i}].image_url.url is required")
            parts.append(image_from_url(url, img.get("detail") if isinstance(img, dict) else None))
        elif kind == "input_audio":
            raise UnsupportedContent(f"{where}.content[{i}]: audio input is not supported by the gateway")
        elif isinstance(kind, str):
            parts.append(RawPart(SHAPE, kind, item))
        else:
            raise InvalidRequest(f"{where}.content[{i}] needs a `type`")
    return parts


def _assistant(msg: dict[str, Any], where: str) -> Message:
    parts: list[Part] = []
    for block in msg.get("thinking_blocks") or []:  # LiteLLM's convention for signed thinking
        if block.get("type") == "redacted_thinking":
            parts.append(ThinkingPart(redacted=block.get("data"), origin=SHAPE))
        else:
            parts.append(ThinkingPart(block.get("thinking") or "", block.get("signature"), origin=SHAPE))
    reasoning = msg.get("reasoning_content") or msg.get("reasoning")
    if reasoning and not parts:
        parts.append(ThinkingPart(reasoning, origin=SHAPE))
    parts.extend(p for p in _user_parts(msg.get("content"), where) if not (isinstance(p, TextPart) and not p.text))
    if msg.get("function_call"):
        raise UnsupportedContent(f"{where}.function_call (deprecated) is not supported; use tool_calls")
    for j, call in enumerate(msg.get("tool_calls") or []):
        fn = call.get("function") or {}
        if call.get("type", "function") != "function" or not fn.get("name"):
            raise UnsupportedContent(f"{where}.tool_calls[{j}]: only function tool calls are supported")
        parts.append(ToolCallPart(call.get("id") or new_id("call_"), fn["name"], fn.get("arguments") or "{}"))
    return Message(Role.ASSISTANT, parts, msg.get("name"))


def _tool_result(msg: dict[str, Any], where: str) -> Message:
    call_id = msg.get("tool_call_id")
    if not call_id:
        raise InvalidRequest(f"{where}.tool_call_id is required")
    content = [p for p in _user_parts(msg.get("content"), where) if isinstance(p, TextPart | ImagePart | RawPart)]
    return Message(Role.TOOL, [ToolResultPart(call_id, content)])


def _tool_choice(value: Any) -> ToolChoice | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value not in ("auto", "none", "required"):
            raise InvalidRequest(f"unknown tool_choice {value!r}")
        return ToolChoice(value)  # type: ignore[arg-type]
    if isinstance(value, dict) and value.get("type") == "function":
        return ToolChoice("tool", (value.get("function") or {}).get("name"))
    raise UnsupportedContent(f"tool_choice {value!r} is not supported")


def parse_request(body: dict[str, Any]) -> CanonicalRequest:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise InvalidRequest("`messages` must be an array")
    req = CanonicalRequest(model=body.get("model"), native_shape=SHAPE)
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise InvalidRequest(f"{where} must be an object")
        role = msg.get("role")
        if role in ("system", "developer"):
            req.system.extend(p for p in _user_parts(msg.get("content"), where) if isinstance(p, TextPart))
        elif role == "user":
            req.messages.append(Message(Role.USER, _user_parts(msg.get("content"), where), msg.get("name")))
        elif role == "assistant":
            req.messages.append(_assistant(msg, where))
        elif role == "tool":
            req.messages.append(_tool_result(msg, where))
        else:
            raise UnsupportedContent(f"{where}: role {role!r} is not supported")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict):
            raise InvalidRequest(f"tools[{i}] must be an object")
        fn = tool.get("function")
        if tool.get("type") != "function" or not isinstance(fn, dict) or not fn.get("name"):
            req.tools.append(Tool(str(tool.get("type")), raw=RawPart(SHAPE, f"tool {tool.get('type')}", tool)))
            continue
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        req.tools.append(Tool(fn["name"], fn.get("description"), params, fn.get("strict")))
    req.tool_choice = _tool_choice(body.get("tool_choice"))
    req.parallel_tool_calls = body.get("parallel_tool_calls")
    req.max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    req.temperature, req.top_p = body.get("temperature"), body.get("top_p")
    stop = body.get("stop")
    req.stop = [stop] if isinstance(stop, str) else list(stop or [])
    req.stream = bool(body.get("stream"))
    req.stream_include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    effort = body.get("reasoning_effort")
    if effort:
        req.reasoning = Reasoning(enabled=effort != "none", effort=effort)
    fmt = body.get("response_format")
    req.response_format = fmt if isinstance(fmt, dict) and fmt.get("type") != "text" else None
    req.user = body.get("user")
    req.native = {k: v for k, v in body.items() if k in _NATIVE_KEYS}
    req.extra = {k: v for k, v in body.items() if k not in _CANONICAL_KEYS and k not in _NATIVE_KEYS}
    return req


# ---------------------------------------------------------------- provider: request


def _content_parts(parts: list[Part], target: str) -> str | list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for p in parts:
        if isinstance(p, TextPart):
            out.append({"type": "text", "text": p.text})
        elif isinstance(p, ImagePart):
            image: dict[str, Any] = {"url": image_url_of(p)}
            if p.detail:
                image["detail"] = p.detail
            out.append({"type": "image_url", "image_url": image})
        elif isinstance(p, RawPart) and p.shape == SHAPE:
            out.append(p.data)
        elif not isinstance(p, ThinkingPart):
            reject_raw(p, target)
            raise unsupported(type(p).__name__, target)
    if len(out) == 1 and out[0]["type"] == "text":
        return out[0]["text"]
    return out


def _messages(req: CanonicalRequest, target: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if req.system:
        out.append({"role": "system", "content": "\n\n".join(p.text for p in req.system)})
    for msg in req.messages:
        if msg.role is Role.SYSTEM:  # a system turn keeps its place: OpenAI takes system messages anywhere
            out.append({"role": "system", "content": text_of(msg.content)})
            continue
        results = [p for p in msg.content if isinstance(p, ToolResultPart)]
        for res in results:
            if any(not isinstance(c, TextPart) for c in res.content):
                raise unsupported("an image or document inside a tool result", target)
            out.append({"role": "tool", "tool_call_id": res.tool_call_id, "content": text_of(res.content)})
        rest = [p for p in msg.content if not isinstance(p, ToolResultPart)]
        if msg.role is Role.ASSISTANT:
            calls = [p for p in rest if isinstance(p, ToolCallPart)]
            content = _content_parts([p for p in rest if not isinstance(p, ToolCallPart)], target)
            m: dict[str, Any] = {"role": "assistant", "content": content or None}
            if calls:
                m["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in calls
                ]
            out.append(m)
        elif rest:
            if any(isinstance(p, ToolCallPart) for p in rest):
                raise InvalidRequest("tool calls may only appear in assistant messages")
            m = {"role": "user", "content": _content_parts(rest, target)}
            if msg.name:
                m["name"] = msg.name
            out.append(m)
    return out


def build_tools(req: CanonicalRequest, target: str) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    for tool in req.tools:
        if tool.raw is not None:
            if tool.raw.shape != SHAPE:
                raise unsupported(tool.raw.kind, target)
            tools.append(tool.raw.data)
            continue
        fn: dict[str, Any] = {"name": tool.name, "parameters": tool.parameters}
        if tool.description:
            fn["description"] = tool.description
        if tool.strict is not None:
            fn["strict"] = tool.strict
        tools.append({"type": "function", "function": fn})
    return tools


def build_request(req: CanonicalRequest, model: str, provider: str = "openai", caps: ModelCaps | None = None,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """Chat Completions body for `provider` (openai, groq, gemini, perplexity, openai-compatible).
    Reasoning goes only to models that reason; otherwise it is left out and said in `notes`."""
    target = f"OpenAI Chat Completions ({provider})"
    body: dict[str, Any] = {"model": model, "messages": _messages(req, target)}
    if req.tools:
        body["tools"] = build_tools(req, target)
        if req.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = req.parallel_tool_calls
    if req.tool_choice is not None:
        tc = req.tool_choice
        body["tool_choice"] = {"type": "function", "function": {"name": tc.name}} if tc.mode == "tool" else tc.mode
    if req.max_tokens is not None:
        # OpenAI's reasoning models refuse `max_tokens`; the other providers all read `max_tokens`.
        body["max_completion_tokens" if provider == "openai" else "max_tokens"] = req.max_tokens
    for key, value in (("temperature", req.temperature), ("top_p", req.top_p), ("user", req.user),
                       ("response_format", req.response_format)):
        if value is not None:
            body[key] = value
    if req.top_k is not None and provider in ("perplexity", "openai-compatible"):
        body["top_k"] = req.top_k
    if req.stop:
        body["stop"] = req.stop
    effort = reasoning_effort(req, caps or guess_caps(provider, model), model, notes)
    if effort is not None:
        body["reasoning_effort"] = effort
    if req.stream:
        body["stream"] = True
        if provider != "perplexity":  # Perplexity reports usage in every chunk and has no stream_options
            body["stream_options"] = {"include_usage": True}
    portable = frozenset({"metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier"})
    body.update(native_params(req.native, req.native_shape, SHAPE,
                              portable if req.native_shape == "openai_responses" else frozenset()))
    body.update(req.extra)
    return body


# ---------------------------------------------------------------- provider: response


def parse_response(body: dict[str, Any]) -> CanonicalResponse:
    choices = body.get("choices") or []
    if not choices:
        raise ProviderResponseError("chat completion without choices")
    choice = choices[0]
    msg = choice.get("message") or {}
    content: list[Part] = []
    reasoning = msg.get("reasoning_content") or msg.get("reasoning")
    if reasoning:
        content.append(ThinkingPart(reasoning, origin=SHAPE))
    text = msg.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    if text:
        content.append(TextPart(text))
    if msg.get("refusal"):
        content.append(TextPart(msg["refusal"]))
    for call in msg.get("tool_calls") or []:
        fn = call.get("function") or {}
        content.append(ToolCallPart(call.get("id") or new_id("call_"), fn.get("name", ""), fn.get("arguments") or "{}"))
    stop = FINISH_TO_STOP.get(choice.get("finish_reason") or "stop", StopReason.END_TURN)
    if stop is StopReason.END_TURN and msg.get("tool_calls"):
        stop = StopReason.TOOL_USE  # Gemini says "stop" even when it called tools
    return CanonicalResponse(
        id=body.get("id") or new_id("chatcmpl-"),
        model=body.get("model") or "",
        content=content,
        stop_reason=stop,
        usage=chat_usage(body.get("usage") or (body.get("x_groq") or {}).get("usage")),
        created=body.get("created"),
        extra={k: body[k] for k in PROVIDER_EXTRAS if k in body},
    )


# ---------------------------------------------------------------- endpoint: response


def render_message(content: list[Part]) -> dict[str, Any]:
    text = "".join(p.text for p in content if isinstance(p, TextPart))
    msg: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    thinking = [p for p in content if isinstance(p, ThinkingPart)]
    if thinking:
        msg["reasoning_content"] = "".join(p.text for p in thinking)
        signed = [p for p in thinking if p.signature or p.redacted]
        if signed:  # lets a chat client hand Claude its signed thinking back on the next turn
            msg["thinking_blocks"] = [
                {"type": "redacted_thinking", "data": p.redacted} if p.redacted
                else {"type": "thinking", "thinking": p.text, "signature": p.signature}
                for p in signed
            ]
    calls = [p for p in content if isinstance(p, ToolCallPart)]
    if calls:
        msg["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls
        ]
    for p in content:
        reject_raw(p, "the chat completions endpoint")
    return msg


def render_response(resp: CanonicalResponse) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": resp.id,
        "object": "chat.completion",
        "created": resp.created or now(),
        "model": resp.model,
        "choices": [{
            "index": 0,
            "message": render_message(resp.content),
            "finish_reason": STOP_TO_FINISH[resp.stop_reason],
            "logprobs": None,
        }],
        "usage": render_chat_usage(resp.usage),
    }
    out.update({k: v for k, v in resp.extra.items() if k in PROVIDER_EXTRAS})
    return out


def reasoning_effort(req: CanonicalRequest, caps: ModelCaps, model: str, notes: list[str] | None) -> str | None:
    """The OpenAI reasoning effort to send, or None (no reasoning asked, or a model that refuses it)."""
    r = req.reasoning
    if r is None or (not r.enabled and r.effort != "none"):  # "none" only on request: old models refuse it
        return None
    if not caps.reasoning:
        if r.enabled and notes is not None:
            notes.append(f"reasoning dropped: model {model!r} does not reason")
        return None
    return (r.effort or budget_to_effort(r.budget_tokens)) if r.enabled else "none"
