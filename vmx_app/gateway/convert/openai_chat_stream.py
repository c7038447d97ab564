"""OpenAI Chat Completions streaming: canonical events -> SSE chunks, and provider chunks -> events."""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.common import new_id, now, openai_error_type
from vmx_app.gateway.convert.openai_chat import FINISH_TO_STOP, PROVIDER_EXTRAS, STOP_TO_FINISH
from vmx_app.gateway.convert.sse import DONE, sse_data
from vmx_app.gateway.convert.usage import chat_usage, render_chat_usage
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


class BlockTracker:
    """Assigns canonical block indices to a provider's interleaved deltas, one open block at a time."""

    __slots__ = ("_keys", "_open", "_next")

    def __init__(self) -> None:
        self._keys: dict[Any, int] = {}
        self._open: int | None = None
        self._next = 0

    def index(self, key: Any) -> tuple[int, list[CanonicalStreamEvent], bool]:
        """(index, events closing the previous block, whether the block is new)."""
        events: list[CanonicalStreamEvent] = []
        if key in self._keys:
            return self._keys[key], events, False
        events.extend(self.close())
        self._keys[key] = self._open = self._next
        self._next += 1
        return self._keys[key], events, True

    def close(self) -> list[CanonicalStreamEvent]:
        if self._open is None:
            return []
        index, self._open = self._open, None
        return [BlockStop(index)]


class ChatStreamRenderer:
    """Canonical events -> `data: {chunk}` lines ending in `data: [DONE]`, as the OpenAI SDK reads them."""

    def __init__(self, model: str, include_usage: bool = False, id: str | None = None,
                 created: int | None = None) -> None:
        self.model = model
        self.include_usage = include_usage
        self.id = id or new_id("chatcmpl-")
        self.created = created or now()
        self._tools: dict[int, int] = {}  # canonical block index -> tool_calls[].index
        self._thinking: dict[int, str] = {}
        self._usage: Usage | None = None
        self._finished = False
        self.done = False

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, **top: Any) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        }
        if self.include_usage:
            chunk["usage"] = None
        chunk.update(top)
        return sse_data(chunk)

    def render(self, event: CanonicalStreamEvent) -> list[bytes]:
        if self.done:
            return []
        match event:
            case MessageStart():
                return [self._chunk({"role": "assistant", "content": ""})]
            case TextDelta(text=text):
                return [self._chunk({"content": text})] if text else []
            case ThinkingDelta():
                return self._thinking_delta(event)
            case ToolCallStart(index=index, id=call_id, name=name):
                ordinal = self._tools.setdefault(index, len(self._tools))
                call = {"index": ordinal, "id": call_id, "type": "function",
                        "function": {"name": name, "arguments": ""}}
                return [self._chunk({"tool_calls": [call]})]
            case ToolArgsDelta(index=index, partial_json=partial):
                ordinal = self._tools.setdefault(index, len(self._tools))
                call = {"index": ordinal, "function": {"arguments": partial}}
                return [self._chunk({"tool_calls": [call]})] if partial else []
            case MessageDelta():
                return self._finish(event)
            case MessageStop():
                out = [] if self._finished else self._finish(MessageDelta(StopReason.END_TURN))
                if self.include_usage:
                    usage = render_chat_usage(self._usage or Usage())
                    out.append(sse_data({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                                         "model": self.model, "choices": [], "usage": usage}))
                self.done = True
                return [*out, DONE]
            case StreamError(status=status, message=message, type=kind):
                return self.error(status, message, kind)
        return []

    def _thinking_delta(self, event: ThinkingDelta) -> list[bytes]:
        if event.text:
            self._thinking[event.index] = self._thinking.get(event.index, "") + event.text
            return [self._chunk({"reasoning_content": event.text})]
        if event.signature or event.redacted:
            block = ({"type": "redacted_thinking", "data": event.redacted} if event.redacted else
                     {"type": "thinking", "thinking": self._thinking.get(event.index, ""),
                      "signature": event.signature})
            return [self._chunk({"thinking_blocks": [block]})]
        return []

    def _finish(self, event: MessageDelta) -> list[bytes]:
        if self._finished:
            return []
        self._finished = True
        self._usage = event.usage
        extras = {k: v for k, v in event.extra.items() if k in PROVIDER_EXTRAS}
        return [self._chunk({}, STOP_TO_FINISH[event.stop_reason], **extras)]

    def error(self, status: int, message: str, type: str | None = None, code: str | None = None) -> list[bytes]:
        """Mid-stream failure: the OpenAI SDK raises APIError on a chunk carrying `error`."""
        self.done = True
        return [sse_data({"error": {"message": message, "type": type or openai_error_type(status),
                                    "param": None, "code": code or str(status)}})]


class ChatStreamParser:
    """Provider chunks (decoded JSON) -> canonical events. Call `finish()` at `[DONE]`."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        self._started = False
        self._done = False
        self._blocks = BlockTracker()
        self._stop: StopReason | None = None
        self._usage: Usage | None = None
        self._extra: dict[str, Any] = {}
        self._saw_tools = False

    def feed(self, event: dict[str, Any] | tuple[str, dict[str, Any]]) -> list[CanonicalStreamEvent]:
        data = event[1] if isinstance(event, tuple) else event
        if self._done or not isinstance(data, dict):
            return []
        if isinstance(data.get("error"), dict):
            err = data["error"]
            self._done = True
            status = err.get("code") if isinstance(err.get("code"), int) else 502
            return [StreamError(status, str(err.get("message") or "upstream error"), err.get("type"))]
        out: list[CanonicalStreamEvent] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(data.get("id") or new_id("chatcmpl-"), data.get("model") or self.model))
        self._extra.update({k: data[k] for k in PROVIDER_EXTRAS if k in data})
        usage = data.get("usage") or (data.get("x_groq") or {}).get("usage")
        if isinstance(usage, dict):
            self._usage = chat_usage(usage)
        choices = data.get("choices") or []
        if choices:
            choice = choices[0]
            out.extend(self._delta(choice.get("delta") or {}))
            finish = choice.get("finish_reason")
            if finish:
                stop = FINISH_TO_STOP.get(finish, StopReason.END_TURN)
                self._stop = StopReason.TOOL_USE if stop is StopReason.END_TURN and self._saw_tools else stop
                out.extend(self._blocks.close())
                if isinstance(usage, dict):  # Perplexity, Gemini and Groq put usage on the last chunk
                    out.extend(self._end())
        elif self._stop is not None and isinstance(usage, dict):  # OpenAI's trailing include_usage chunk
            out.extend(self._end())
        return out

    def _delta(self, delta: dict[str, Any]) -> list[CanonicalStreamEvent]:
        out: list[CanonicalStreamEvent] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            index, closed, _ = self._blocks.index("thinking")
            out += [*closed, ThinkingDelta(index, reasoning)]
        text = delta.get("content")
        if isinstance(text, str) and text:
            index, closed, _ = self._blocks.index("text")
            out += [*closed, TextDelta(index, text)]
        for call in delta.get("tool_calls") or []:
            self._saw_tools = True
            fn = call.get("function") or {}
            index, closed, new = self._blocks.index(("tool", call.get("index", 0)))
            out += closed
            if new:
                out.append(ToolCallStart(index, call.get("id") or new_id("call_"), fn.get("name") or ""))
            if fn.get("arguments"):
                out.append(ToolArgsDelta(index, fn["arguments"]))
        return out

    def _end(self) -> list[CanonicalStreamEvent]:
        self._done = True
        return [MessageDelta(self._stop or StopReason.END_TURN, self._usage, extra=dict(self._extra)),
                MessageStop()]

    def finish(self) -> list[CanonicalStreamEvent]:
        """End of the upstream stream (`[DONE]`): flush what a usage-less provider left pending."""
        if self._done:
            return []
        out: list[CanonicalStreamEvent] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(new_id("chatcmpl-"), self.model))
        return [*out, *self._blocks.close(), *self._end()]
