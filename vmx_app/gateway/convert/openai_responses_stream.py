"""OpenAI Responses streaming: canonical events -> typed SSE events, and provider events -> canonical."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vmx_app.gateway.convert.common import new_id, now
from vmx_app.gateway.convert.openai_chat_stream import BlockTracker
from vmx_app.gateway.convert.openai_responses_output import (
    call_item,
    message_item,
    reasoning_item,
    response_object,
    status_of,
    stop_from_status,
)
from vmx_app.gateway.convert.sse import sse_event
from vmx_app.gateway.convert.usage import responses_usage
from vmx_app.gateway.types import (
    BlockStop,
    CanonicalRequest,
    CanonicalStreamEvent,
    MessageDelta,
    MessageStart,
    MessageStop,
    StopReason,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ThinkingPart,
    ToolArgsDelta,
    ToolCallPart,
    ToolCallStart,
    Usage,
)


@dataclass(slots=True)
class _Item:
    kind: str  # message | reasoning | function_call
    output_index: int
    item_id: str
    text: str = ""
    call: ToolCallPart | None = None
    thinking: ThinkingPart = field(default_factory=ThinkingPart)
    done: dict[str, Any] | None = None


class ResponsesStreamRenderer:
    """Canonical events -> response.created ... response.completed, with sequence numbers."""

    def __init__(self, model: str, request: CanonicalRequest | None = None, id: str | None = None) -> None:
        self.model = model
        self.request = request
        self.id = id or new_id("resp_")
        self.created_at = now()
        self._seq = 0
        self._items: dict[int, _Item] = {}  # canonical block index -> output item
        self._stop = StopReason.END_TURN
        self._usage: Usage | None = None
        self._started = False
        self.done = False

    def _ev(self, kind: str, **payload: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._seq, **payload}
        self._seq += 1
        return sse_event(kind, data)

    def _response(self, status: str, **kw: Any) -> dict[str, Any]:
        output = [i.done for i in sorted(self._items.values(), key=lambda i: i.output_index) if i.done]
        return response_object(id=self.id, model=self.model, created_at=self.created_at, status=status,
                               output=output, request=self.request, **kw)

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        snapshot = self._response("in_progress", usage=None)
        return [self._ev("response.created", response=snapshot), self._ev("response.in_progress", response=snapshot)]

    def render(self, event: CanonicalStreamEvent) -> list[bytes]:
        if self.done:
            return []
        if isinstance(event, StreamError):
            return self.error(event.status, event.message, event.type)
        out = self._start()
        match event:
            case TextDelta(index=index, text=text):
                out += self._text(index, text)
            case ThinkingDelta():
                out += self._thinking(event)
            case ToolCallStart(index=index, id=call_id, name=name):
                if index not in self._items:
                    item = self._items[index] = _Item("function_call", len(self._items), new_id("fc_"),
                                                      call=ToolCallPart(call_id, name, ""))
                    added = call_item(item.item_id, item.call, "in_progress")  # type: ignore[arg-type]
                    out.append(self._ev("response.output_item.added", output_index=item.output_index, item=added))
            case ToolArgsDelta(index=index, partial_json=partial):
                item = self._items.get(index)
                if item is not None and item.call is not None and item.done is None:
                    item.call.arguments += partial
                    out.append(self._ev("response.function_call_arguments.delta", item_id=item.item_id,
                                        output_index=item.output_index, delta=partial))
            case BlockStop(index=index):
                out += self._close(index)
            case MessageDelta(stop_reason=stop, usage=usage):
                self._stop, self._usage = stop, usage
                for index in list(self._items):
                    out += self._close(index)
            case MessageStop():
                for index in list(self._items):
                    out += self._close(index)
                status = status_of(self._stop)
                kind = {"completed": "response.completed", "incomplete": "response.incomplete"}.get(
                    status, "response.failed")
                out.append(self._ev(kind, response=self._response(status, usage=self._usage or Usage(),
                                                                  stop=self._stop)))
                self.done = True
        return out

    def _text(self, index: int, text: str) -> list[bytes]:
        out: list[bytes] = []
        if index not in self._items:
            item = self._items[index] = _Item("message", len(self._items), new_id("msg_"))
            out.append(self._ev("response.output_item.added", output_index=item.output_index,
                                item=message_item(item.item_id, [], "in_progress")))
            out.append(self._ev("response.content_part.added", item_id=item.item_id, output_index=item.output_index,
                                content_index=0, part={"type": "output_text", "text": "", "annotations": []}))
        item = self._items[index]
        if item.done is not None or item.kind != "message" or not text:
            return out
        item.text += text
        out.append(self._ev("response.output_text.delta", item_id=item.item_id, output_index=item.output_index,
                            content_index=0, delta=text, logprobs=[]))
        return out

    def _thinking(self, event: ThinkingDelta) -> list[bytes]:
        out: list[bytes] = []
        if event.index not in self._items:
            prefix = "rs_vmxr_" if event.redacted else "rs_vmx_"
            item = self._items[event.index] = _Item("reasoning", len(self._items), new_id(prefix))
            item.thinking.origin = "vmx"
            out.append(self._ev("response.output_item.added", output_index=item.output_index,
                                item={"type": "reasoning", "id": item.item_id, "summary": [], "status": "in_progress"}))
            if not event.redacted:
                out.append(self._ev("response.reasoning_summary_part.added", item_id=item.item_id,
                                    output_index=item.output_index, summary_index=0,
                                    part={"type": "summary_text", "text": ""}))
        item = self._items[event.index]
        if item.done is not None or item.kind != "reasoning":
            return out
        item.thinking.signature = event.signature or item.thinking.signature
        item.thinking.redacted = event.redacted or item.thinking.redacted
        if event.text:
            item.thinking.text += event.text
            out.append(self._ev("response.reasoning_summary_text.delta", item_id=item.item_id,
                                output_index=item.output_index, summary_index=0, delta=event.text))
        return out

    def _close(self, index: int) -> list[bytes]:
        item = self._items.get(index)
        if item is None or item.done is not None:
            return []
        ids = {"item_id": item.item_id, "output_index": item.output_index}
        out: list[bytes] = []
        if item.kind == "message":
            part = {"type": "output_text", "text": item.text, "annotations": []}
            out.append(self._ev("response.output_text.done", **ids, content_index=0, text=item.text, logprobs=[]))
            out.append(self._ev("response.content_part.done", **ids, content_index=0, part=part))
            item.done = message_item(item.item_id, [item.text])
        elif item.kind == "reasoning":
            if not item.thinking.redacted:
                part = {"type": "summary_text", "text": item.thinking.text}
                out.append(self._ev("response.reasoning_summary_text.done", **ids, summary_index=0,
                                    text=item.thinking.text))
                out.append(self._ev("response.reasoning_summary_part.done", **ids, summary_index=0, part=part))
            item.done = reasoning_item(item.thinking, item.item_id)
        else:
            assert item.call is not None
            out.append(self._ev("response.function_call_arguments.done", **ids, arguments=item.call.arguments,
                                name=item.call.name))
            item.done = call_item(item.item_id, item.call)
        out.append(self._ev("response.output_item.done", output_index=item.output_index, item=item.done))
        return out

    def error(self, status: int, message: str, type: str | None = None) -> list[bytes]:
        """Mid-stream failure: an `error` event, then `response.failed` so the response has an end state."""
        out = self._start()
        code = "rate_limit_exceeded" if status == 429 else "server_error"
        out.append(self._ev("error", code=type or code, message=message, param=None))
        failed = self._response("failed", usage=self._usage, error={"code": code, "message": message})
        out.append(self._ev("response.failed", response=failed))
        self.done = True
        return out


class ResponsesStreamParser:
    """OpenAI Responses stream events (`data` objects with `type`) -> canonical events."""

    def __init__(self, model: str = "") -> None:
        self.model = model
        self._blocks = BlockTracker()
        self._saw_tools = False
        self._done = False

    def feed(self, event: dict[str, Any] | tuple[str, dict[str, Any]]) -> list[CanonicalStreamEvent]:
        data = event[1] if isinstance(event, tuple) else event
        kind = data.get("type") or (event[0] if isinstance(event, tuple) else None)
        if self._done:
            return []
        out: list[CanonicalStreamEvent] = []
        if kind == "response.created":
            resp = data.get("response") or {}
            out.append(MessageStart(resp.get("id") or new_id("resp_"), resp.get("model") or self.model))
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                self._saw_tools = True
                index, closed, _ = self._blocks.index(("call", data.get("output_index")))
                out += [*closed, ToolCallStart(index, item.get("call_id") or new_id("call_"), item.get("name") or "")]
                if item.get("arguments"):
                    out.append(ToolArgsDelta(index, item["arguments"]))
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            index, closed, _ = self._blocks.index(("text", data.get("output_index"), data.get("content_index")))
            out += [*closed, TextDelta(index, data.get("delta") or "")]
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            index, closed, _ = self._blocks.index(("reasoning", data.get("output_index")))
            out += [*closed, ThinkingDelta(index, data.get("delta") or "")]
        elif kind == "response.function_call_arguments.delta":
            index, closed, _ = self._blocks.index(("call", data.get("output_index")))
            out += [*closed, ToolArgsDelta(index, data.get("delta") or "")]
        elif kind == "response.output_item.done":
            out += self._blocks.close()
        elif kind in ("response.completed", "response.incomplete"):
            resp = data.get("response") or {}
            self._done = True
            stop = stop_from_status(resp, self._saw_tools)
            out += [*self._blocks.close(), MessageDelta(stop, responses_usage(resp.get("usage"))), MessageStop()]
        elif kind == "response.failed":
            err = (data.get("response") or {}).get("error") or {}
            self._done = True
            out.append(StreamError(502, err.get("message") or "upstream response failed", err.get("code")))
        elif kind == "error":
            self._done = True
            code = data.get("code")
            status = 429 if code == "rate_limit_exceeded" else 502
            out.append(StreamError(status, data.get("message") or "upstream error", code))
        return out

    def finish(self) -> list[CanonicalStreamEvent]:
        """Responses streams end with response.completed; nothing is ever pending."""
        return []
