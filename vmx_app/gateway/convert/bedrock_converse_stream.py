"""Bedrock ConverseStream events (already decoded from the AWS event stream) -> canonical events."""

from __future__ import annotations

from typing import Any

from vmx_app.gateway.convert.bedrock_converse import STOP_MAP
from vmx_app.gateway.convert.common import new_id
from vmx_app.gateway.convert.usage import converse_usage
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
)

# Exception events a ConverseStream can end with, and the HTTP status they stand for.
_EXCEPTIONS = {
    "internalServerException": 500,
    "modelStreamErrorException": 502,
    "validationException": 400,
    "throttlingException": 429,
    "serviceUnavailableException": 503,
}


class ConverseStreamParser:
    """Feed `{"contentBlockDelta": {...}}` dicts (or `(name, payload)` tuples) in order."""

    def __init__(self, model: str = "", id: str | None = None) -> None:
        self.model = model
        self.id = id or new_id("msg_")
        self._started = False
        self._stop: StopReason | None = None
        self._done = False

    def feed(self, event: dict[str, Any] | tuple[str, dict[str, Any]]) -> list[CanonicalStreamEvent]:
        if isinstance(event, tuple):
            event = {event[0]: event[1]}
        if self._done:
            return []
        out: list[CanonicalStreamEvent] = []
        for name, payload in event.items():
            if name in _EXCEPTIONS:
                self._done = True
                message = payload.get("message") if isinstance(payload, dict) else None
                return [StreamError(_EXCEPTIONS[name], message or name, name)]
            if not self._started:
                self._started = True
                out.append(MessageStart(self.id, self.model))
            out += self._event(name, payload if isinstance(payload, dict) else {})
        return out

    def _event(self, name: str, data: dict[str, Any]) -> list[CanonicalStreamEvent]:
        index = data.get("contentBlockIndex", 0)
        if name == "contentBlockStart":
            use = (data.get("start") or {}).get("toolUse")
            if isinstance(use, dict):
                return [ToolCallStart(index, use.get("toolUseId") or new_id("tooluse_"), use.get("name") or "")]
        elif name == "contentBlockDelta":
            delta = data.get("delta") or {}
            if "text" in delta:
                return [TextDelta(index, delta["text"])]
            if "toolUse" in delta:
                return [ToolArgsDelta(index, (delta["toolUse"] or {}).get("input") or "")]
            rc = delta.get("reasoningContent")
            if isinstance(rc, dict):
                return [ThinkingDelta(index, rc.get("text") or "", rc.get("signature"), rc.get("redactedContent"))]
        elif name == "contentBlockStop":
            return [BlockStop(index)]
        elif name == "messageStop":
            self._stop = STOP_MAP.get(data.get("stopReason") or "end_turn", StopReason.END_TURN)
        elif name == "metadata":  # the last event: usage and latency
            self._done = True
            return [MessageDelta(self._stop or StopReason.END_TURN, converse_usage(data.get("usage"))),
                    MessageStop()]
        return []

    def finish(self) -> list[CanonicalStreamEvent]:
        """End of stream: close a message whose metadata event never came."""
        if self._done or self._stop is None:
            return []
        self._done = True
        return [MessageDelta(self._stop), MessageStop()]
