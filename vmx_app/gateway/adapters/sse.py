"""Incremental Server-Sent Events decoding, plus the per-wire rules for a stream's natural end."""

from __future__ import annotations

import re
from typing import Any

import orjson

from vmx_app.gateway.adapters.base import ProviderError, WireFormat
from vmx_app.gateway.error_types import status_for_error_type

SSEEvent = tuple[str | None, Any]

_DONE = b"[DONE]"
# Decoded event names are few; interning them avoids one str allocation per event.
_NAMES: dict[bytes, str] = {}


def _event_name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        name = raw.decode("utf-8", "replace")
        if len(_NAMES) < 256:
            _NAMES[raw] = name
    return name


class SSEDecoder:
    """Feed body chunks, get `(event_name | None, data)` tuples; `data: [DONE]` sets `done`.

    Accepts LF, CRLF and CR line endings, multi-line data and comments. An event still incomplete
    when the body ends is discarded (as the SSE spec says). Non-JSON data raises ProviderError(502).
    """

    __slots__ = ("_buf", "done")

    def __init__(self) -> None:
        self._buf = b""
        self.done = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        if self.done:
            return []
        buf = self._buf + chunk if self._buf else chunk
        tail = b""
        if b"\r" in buf:
            if buf.endswith(b"\r"):  # may be half of a CRLF split across chunks
                buf, tail = buf[:-1], b"\r"
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self._buf = buf + tail
            return []
        self._buf = buf[cut + 2 :] + tail
        out: list[SSEEvent] = []
        for block in buf[:cut].split(b"\n\n"):
            if not block:
                continue
            if block.startswith(b"data: ") and b"\n" not in block:  # the common OpenAI shape
                name, data = None, block[6:]
            else:
                name, data = _parse_block(block)
                if data is None:
                    continue
            if data == _DONE:
                self.done = True
                self._buf = b""
                break
            try:
                out.append((name, orjson.loads(data)))
            except orjson.JSONDecodeError as exc:
                raise ProviderError(502, f"provider sent invalid JSON in its event stream: {exc}") from exc
        return out


def _parse_block(block: bytes) -> tuple[str | None, bytes | None]:
    name: str | None = None
    parts: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line[0] == 0x3A:  # blank or ":" comment
            continue
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            parts.append(value)
        elif field == b"event":
            name = _event_name(value)
    if not parts:
        return name, None
    return name, parts[0] if len(parts) == 1 else b"\n".join(parts)


def _stream_error(data: Any, default_type: str | None = None) -> ProviderError:
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        err = {"message": str(err or data)}
    etype = err.get("type") or err.get("code") or default_type
    etype = etype if isinstance(etype, str) else None
    message = err.get("message") or "provider reported an error in its stream"
    status = status_for_error_type(etype)
    return ProviderError(status, str(message), body=orjson.dumps(data), error_type=etype)


_RESPONSES_END = frozenset({"response.completed", "response.incomplete"})


class SSEWireDecoder:
    """SSE decoding plus the wire's rules: which event is the natural end, which one is an error.

    `finished` turns true at the natural end (OpenAI chat: `[DONE]` or a choice with a finish_reason;
    Responses: `response.completed`/`response.incomplete`; Anthropic: `message_stop`). An error event
    is held in `error` after the events before it are returned.
    """

    __slots__ = ("_sse", "_wire", "finished", "error")

    def __init__(self, wire: WireFormat) -> None:
        self._sse = SSEDecoder()
        self._wire = wire
        self.finished = False
        self.error: ProviderError | None = None

    @property
    def done(self) -> bool:
        return self._sse.done or self.error is not None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        events = self._sse.feed(chunk)
        if self._sse.done:
            self.finished = True
        wire = self._wire
        for i, (name, data) in enumerate(events):
            if not isinstance(data, dict):
                continue
            if wire == "openai-chat":
                if "error" in data and "choices" not in data:
                    self.error = _stream_error(data)
                elif not self.finished:
                    for choice in data.get("choices") or ():
                        if isinstance(choice, dict) and choice.get("finish_reason"):
                            self.finished = True
            else:
                kind = name or data.get("type")
                if kind == "error":
                    self.error = _stream_error(data)
                elif wire == "anthropic":
                    if kind == "message_stop":
                        self.finished = True
                elif kind in _RESPONSES_END:
                    self.finished = True
                elif kind == "response.failed":
                    response = data.get("response") or {}
                    self.error = _stream_error(response if response.get("error") else data, "server_error")
            if self.error is not None:
                return events[:i]
        return events


# Raw pass-through does not parse JSON; it spots the natural end with a marker search instead.
# Event text is JSON-escaped inside `data:` lines, so these markers cannot come from model output.
_END_MARKERS: dict[str, re.Pattern[bytes]] = {
    "openai-chat": re.compile(rb'[\r\n]data: ?\[DONE\]|"finish_reason" ?: ?"'),
    "openai-responses": re.compile(rb"[\r\n]event: ?response\.(?:completed|incomplete|failed)"),
    "anthropic": re.compile(rb"[\r\n]event: ?message_stop"),
}
_DONE_MARKER = re.compile(rb"[\r\n]data: ?\[DONE\]")


class SSEEndScanner:
    """Marks `finished` once the wire's natural end has gone by; `done` once `[DONE]` has."""

    __slots__ = ("_end", "_tail", "finished", "done", "error")

    def __init__(self, wire: WireFormat) -> None:
        self._end = _END_MARKERS[wire]
        self._tail = b"\n"  # the body starts at a line start; later tails are real preceding bytes
        self.finished = False
        self.done = False
        self.error: ProviderError | None = None

    def feed(self, chunk: bytes) -> list[Any]:
        if self.done:
            return []
        window = self._tail + chunk
        if not self.finished and self._end.search(window):
            self.finished = True
        if self.finished and _DONE_MARKER.search(window):
            self.done = True
        self._tail = window[-48:]
        return []
