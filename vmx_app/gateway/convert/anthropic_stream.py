"""Anthropic Messages streaming: canonical events -> `event:`/`data:` SSE, and provider events -> canonical.

The parser also reads Bedrock InvokeModelWithResponseStream chunks for Claude: they carry the same
event objects (with their `type`), decoded by the transport.
"""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.anthropic import STOP_MAP, STOP_RENDER
from vmx_app.gateway.convert.common import STRUCTURED_TOOL, anthropic_error_type, new_id
from vmx_app.gateway.convert.sse import sse_event
from vmx_app.gateway.convert.usage import anthropic_usage, render_anthropic_usage
from vmx_app.gateway.error_types import status_for_error_type
from vmx_app.gateway.types import (
    BlockStop,
    CanonicalStreamEvent,
    MessageDelta,
    MessageStart,
    MessageStop,
    StopReason,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
    ToolCallStart,
    Usage,
)


class AnthropicStreamRenderer:
    """Canonical events -> message_start ... message_stop, as the Anthropic SDK accumulates them."""

    def __init__(self, model: str, id: str | None = None) -> None:
        self.model = model
        self.id = id or new_id("msg_")
        self._started = False
        self._blocks: dict[int, int] = {}  # canonical index -> rendered index
        self._open: set[int] = set()
        self._finished = False
        self.done = False

    def _ev(self, name: str, **payload: Any) -> bytes:
        return sse_event(name, {"type": name, **payload})

    def _start(self, usage: Usage | None = None) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        message = {"id": self.id, "type": "message", "role": "assistant", "content": [], "model": self.model,
                   "stop_reason": None, "stop_sequence": None, "usage": render_anthropic_usage(usage or Usage())}
        return [self._ev("message_start", message=message)]

    def _block(self, index: int, block: dict[str, Any]) -> tuple[int, list[bytes]]:
        if index in self._blocks:
            return self._blocks[index], []
        rendered = self._blocks[index] = len(self._blocks)
        self._open.add(rendered)
        return rendered, [self._ev("content_block_start", index=rendered, content_block=block)]

    def _delta(self, index: int, block: dict[str, Any], delta: dict[str, Any]) -> list[bytes]:
        rendered, out = self._block(index, block)
        if rendered not in self._open:
            return out
        return [*out, self._ev("content_block_delta", index=rendered, delta=delta)]

    def render(self, event: CanonicalStreamEvent) -> list[bytes]:
        if self.done:
            return []
        if isinstance(event, StreamError):
            return self.error(event.status, event.message, event.type)
        out = self._start(event.usage if isinstance(event, MessageStart) else None)
        match event:
            case TextDelta(index=index, text=text):
                out += self._delta(index, {"type": "text", "text": ""}, {"type": "text_delta", "text": text})
            case ThinkingDelta(index=index, redacted=redacted) if redacted:
                out += self._block(index, {"type": "redacted_thinking", "data": redacted})[1]
            case ThinkingDelta(index=index, text=text, signature=signature):
                block = {"type": "thinking", "thinking": "", "signature": ""}
                if text:
                    out += self._delta(index, block, {"type": "thinking_delta", "thinking": text})
                if signature:
                    out += self._delta(index, block, {"type": "signature_delta", "signature": signature})
            case ToolCallStart(index=index, id=call_id, name=name):
                out += self._block(index, {"type": "tool_use", "id": call_id, "name": name, "input": {}})[1]
            case ToolArgsDelta(index=index, partial_json=partial):
                block = {"type": "tool_use", "id": new_id("toolu_"), "name": "", "input": {}}
                out += self._delta(index, block, {"type": "input_json_delta", "partial_json": partial})
            case BlockStop(index=index):
                out += self._stop_block(self._blocks.get(index))
            case MessageDelta():
                out += self._finish(event)
            case MessageStop():
                if not self._finished:
                    out += self._finish(MessageDelta(StopReason.END_TURN))
                out.append(self._ev("message_stop"))
                self.done = True
        return out

    def _stop_block(self, rendered: int | None) -> list[bytes]:
        if rendered is None or rendered not in self._open:
            return []
        self._open.discard(rendered)
        return [self._ev("content_block_stop", index=rendered)]

    def _finish(self, event: MessageDelta) -> list[bytes]:
        if self._finished:
            return []
        self._finished = True
        out = [b for rendered in sorted(self._open) for b in self._stop_block(rendered)]
        usage = render_anthropic_usage(event.usage or Usage())
        delta = {"stop_reason": STOP_RENDER[event.stop_reason], "stop_sequence": event.stop_sequence}
        return [*out, self._ev("message_delta", delta=delta, usage=usage)]

    def error(self, status: int, message: str, type: str | None = None) -> list[bytes]:
        """Mid-stream failure: the Anthropic SDK raises on an `error` event."""
        self.done = True
        err = {"type": type or anthropic_error_type(status), "message": message}
        return [sse_event("error", {"type": "error", "error": err})]


class AnthropicStreamParser:
    """Anthropic (or Bedrock InvokeModel) stream events -> canonical events."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        self._usage = Usage()
        self._kinds: dict[int, str] = {}
        self._started = False
        self._tools = False  # a tool call of the client's own (not the structured-output tool)

    def feed(self, event: dict[str, Any] | tuple[str, dict[str, Any]]) -> list[CanonicalStreamEvent]:
        name, data = event if isinstance(event, tuple) else (event.get("type"), event)
        kind = data.get("type") or name
        out: list[CanonicalStreamEvent] = []
        if kind != "message_start" and kind not in ("ping", "error") and not self._started:
            self._started = True
            out.append(MessageStart(new_id("msg_"), self.model))
        if kind == "message_start":
            self._started = True
            msg = data.get("message") or {}
            self._usage = anthropic_usage(msg.get("usage"))
            out.append(MessageStart(msg.get("id") or new_id("msg_"), msg.get("model") or self.model, self._usage))
        elif kind == "content_block_start":
            out += self._block_start(data.get("index", 0), data.get("content_block") or {})
        elif kind == "content_block_delta":
            out += self._block_delta(data.get("index", 0), data.get("delta") or {})
        elif kind == "content_block_stop":
            if self._kinds.get(data.get("index", 0)) != "skip":
                out.append(BlockStop(data.get("index", 0)))
        elif kind == "message_delta":
            usage = data.get("usage")
            if isinstance(usage, dict):  # cumulative counts; input fields only when Anthropic repeats them
                self._usage = self._usage.merged(anthropic_usage(usage))
            delta = data.get("delta") or {}
            stop = STOP_MAP.get(delta.get("stop_reason") or "end_turn", StopReason.END_TURN)
            if stop is StopReason.TOOL_USE and not self._tools and "json" in self._kinds.values():
                stop = StopReason.END_TURN  # the structured-output call was the answer
            out.append(MessageDelta(stop, self._usage, delta.get("stop_sequence")))
        elif kind == "message_stop":
            out.append(MessageStop())
        elif kind == "error":
            err = data.get("error") or {}
            etype = err.get("type") or "api_error"
            out.append(StreamError(status_for_error_type(etype, 502), err.get("message") or "upstream error", etype))
        return out

    def _block_start(self, index: int, block: dict[str, Any]) -> list[CanonicalStreamEvent]:
        kind = block.get("type")
        if kind == "text":
            self._kinds[index] = "text"
            return [TextDelta(index, block["text"])] if block.get("text") else []
        if kind == "tool_use" and block.get("name") == STRUCTURED_TOOL:
            self._kinds[index] = "json"  # its arguments stream out as the answer's text
            return []
        if kind == "tool_use":
            self._kinds[index] = "tool"
            self._tools = True
            return [ToolCallStart(index, block.get("id") or new_id("toolu_"), block.get("name") or "")]
        if kind == "thinking":
            self._kinds[index] = "thinking"
            return [ThinkingDelta(index, block["thinking"])] if block.get("thinking") else []
        if kind == "redacted_thinking":
            self._kinds[index] = "thinking"
            return [ThinkingDelta(index, redacted=block.get("data"))]
        # Server-tool blocks only come back for server tools, which never cross to other shapes.
        self._kinds[index] = "skip"
        return []

    def _block_delta(self, index: int, delta: dict[str, Any]) -> list[CanonicalStreamEvent]:
        if self._kinds.get(index) == "skip":
            return []
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(index, delta.get("text") or "")]
        if kind == "input_json_delta" and self._kinds.get(index) == "json":
            return [TextDelta(index, delta["partial_json"])] if delta.get("partial_json") else []
        if kind == "input_json_delta":
            return [ToolArgsDelta(index, delta.get("partial_json") or "")]
        if kind == "thinking_delta":
            return [ThinkingDelta(index, delta.get("thinking") or "")]
        if kind == "signature_delta":
            return [ThinkingDelta(index, signature=delta.get("signature"))]
        return []

    def finish(self) -> list[CanonicalStreamEvent]:
        """Anthropic ends with message_stop itself; nothing is ever pending."""
        return []
