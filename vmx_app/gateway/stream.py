"""One upstream stream turned into the client's SSE bytes.

Pass-through (the client's shape is the provider's): event-aligned provider bytes go out unchanged,
only usage is read (and, when payloads are audited, the events are folded into a final response).
Bedrock InvokeModel for the Anthropic endpoint: the decoded Anthropic events are re-framed as SSE.
Conversion: provider events -> canonical events -> the endpoint's renderer.

`prime()` reads until the first bytes the client would see: until then a failure raises and the
engine may fall back. `rest()` yields the remainder; a failure there ends the stream with the
endpoint's error event, never a clean end (DESIGN §4).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from vmx_app.gateway.adapters import ProviderError, ProviderException, UpstreamStream
from vmx_app.gateway.convert import registry
from vmx_app.gateway.convert.sse import sse_event
from vmx_app.gateway.convert.usage import usage_from_passthrough
from vmx_app.gateway.dispatch import ENDPOINT_SHAPE, WirePlan
from vmx_app.gateway.error_types import status_for_error_type
from vmx_app.gateway.errors import classify, stream_error_event
from vmx_app.gateway.types import (
    CanonicalRequest,
    CanonicalResponse,
    CanonicalStreamEvent,
    Endpoint,
    ImagePart,
    MessageDelta,
    MessageStart,
    Part,
    StopReason,
    StreamError,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolArgsDelta,
    ToolCallPart,
    ToolCallStart,
    Usage,
)

_DONE = b"[DONE]"


class Assembler:
    """Folds canonical stream events into the final response (the audit row's `response`)."""

    __slots__ = ("id", "model", "parts", "stop", "stop_sequence", "usage", "extra")

    def __init__(self, model: str) -> None:
        self.id = ""
        self.model = model
        self.parts: dict[int, Part] = {}
        self.stop = StopReason.END_TURN
        self.stop_sequence: str | None = None
        self.usage = Usage()
        self.extra: dict[str, Any] = {}

    def feed(self, ev: CanonicalStreamEvent) -> None:
        parts = self.parts
        if isinstance(ev, TextDelta):
            part = parts.get(ev.index)
            if isinstance(part, TextPart):
                part.text += ev.text
            else:
                parts[ev.index] = TextPart(ev.text)
        elif isinstance(ev, ToolArgsDelta):
            part = parts.get(ev.index)
            if isinstance(part, ToolCallPart):
                part.arguments += ev.partial_json
        elif isinstance(ev, ToolCallStart):
            parts[ev.index] = ToolCallPart(ev.id, ev.name, "")
        elif isinstance(ev, ThinkingDelta):
            part = parts.get(ev.index)
            if not isinstance(part, ThinkingPart):
                part = parts[ev.index] = ThinkingPart()
            part.text += ev.text
            part.signature = ev.signature or part.signature
            part.redacted = ev.redacted or part.redacted
        elif isinstance(ev, MessageStart):
            self.id = ev.id
            self.model = ev.model or self.model
            self.usage = self.usage.merged(ev.usage)
        elif isinstance(ev, MessageDelta):
            self.stop = ev.stop_reason
            self.stop_sequence = ev.stop_sequence
            self.usage = self.usage.merged(ev.usage)
            self.extra.update(ev.extra)

    def response(self) -> CanonicalResponse:
        content: list[Part] = []
        for _, part in sorted(self.parts.items()):
            if isinstance(part, ToolCallPart) and not part.arguments:
                part.arguments = "{}"
            if not isinstance(part, ImagePart):
                content.append(part)
        return CanonicalResponse(id=self.id or "stream", model=self.model, content=content, stop_reason=self.stop,
                                 stop_sequence=self.stop_sequence, usage=self.usage, extra=self.extra)


def _parse_block(block: bytes) -> tuple[str | None, bytes | None]:
    if block.startswith(b"data: ") and b"\n" not in block:  # OpenAI chat's common shape
        return None, block[6:]
    name: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            data.append(line[6:] if line[5:6] == b" " else line[5:])
        elif line.startswith(b"event:"):
            name = line[6:].strip().decode("utf-8", "replace")
    return name, (b"\n".join(data) if data else None)


def _passthrough_error(shape: str, name: str | None, obj: dict[str, Any]) -> tuple[int, str, str | None] | None:
    """An error the provider reported inside its stream, as (status, message, type)."""
    if shape == "openai_chat":
        if "error" not in obj or "choices" in obj:
            return None
        err = obj["error"]
    else:
        kind = name or obj.get("type")
        if kind == "error":
            err = obj.get("error", obj)
        elif kind == "response.failed":
            err = (obj.get("response") or {}).get("error") or {}
        else:
            return None
    if not isinstance(err, dict):
        err = {"message": str(err)}
    etype = err.get("type") or err.get("code")
    etype = etype if isinstance(etype, str) else None
    return status_for_error_type(etype, 502), str(err.get("message") or "provider stream error"), etype


class StreamBridge:
    def __init__(self, upstream: UpstreamStream, *, endpoint: Endpoint, plan: WirePlan, model: str,
                 canonical: CanonicalRequest | None, drop_usage_chunk: bool, assemble: bool,
                 deadline: float | None = None, clock: Callable[[], float] = time.monotonic,
                 keeper: Any = None) -> None:
        self.upstream = upstream
        self.endpoint = endpoint
        self.plan = plan
        self.model = model
        self.canonical = canonical
        self.usage: Usage | None = None
        self.failure: tuple[int, str, str | None] | None = None  # the stream ended in an error
        self.completed = False
        self._drop_usage = drop_usage_chunk
        self._deadline = deadline
        self._clock = clock
        self._emitted = False
        self._keeper = keeper  # conversion.ThinkingKeeper: signed thinking kept for the next turn
        self._assembler = Assembler(model) if assemble else None
        self._parser = None
        self._renderer = None
        if plan.passthrough:
            if assemble:
                self._parser = registry.provider_stream_parser(plan.shape, model)
            self._gen = self._invoke() if plan.wire == "bedrock-invoke" else self._sse()
        else:
            self._parser = registry.provider_stream_parser(plan.shape, model)
            self._renderer = registry.endpoint_stream_renderer(ENDPOINT_SHAPE[endpoint], model, canonical)
            self._gen = self._converted()

    # ---- driving ----------------------------------------------------------------------------------

    async def prime(self) -> bytes:
        """The first bytes for the client. Raises ProviderException (fallback is still possible)."""
        while True:
            try:
                out = await anext(self._gen)
            except StopAsyncIteration:
                self.completed = True
                return b""
            if out:
                self._emitted = True
                return out

    async def rest(self, on_done: Callable[[StreamBridge, BaseException | None], None],
                   first: bytes = b"") -> AsyncIterator[bytes]:
        exc_seen: BaseException | None = None
        try:
            if first:
                yield first
            if not self.completed:
                async for out in self._gen:
                    if out:
                        yield out
                self.completed = True
        except (ProviderException, TimeoutError) as exc:
            kind, status = classify(exc)
            message = exc.message if isinstance(exc, ProviderError) else (str(exc) or kind)
            etype = exc.error_type if isinstance(exc, ProviderError) else None
            etype = etype or ("timeout_error" if kind == "timeout" else None)
            self.failure = (status, message, etype)
            yield self._error_bytes(status, message, etype)
        except BaseException as exc:  # client gone (cancelled) or a bug: still audit, then re-raise
            exc_seen = exc
            raise
        finally:
            await self.upstream.aclose()
            on_done(self, exc_seen)

    def _error_bytes(self, status: int, message: str, etype: str | None) -> bytes:
        if self._renderer is not None and not self._renderer.done:
            return b"".join(self._renderer.error(status, message, etype))
        return stream_error_event(self.endpoint, status, message, etype)

    def final_response(self) -> dict[str, Any] | None:
        if self._assembler is None:
            return None
        try:
            return registry.render_endpoint_response(ENDPOINT_SHAPE[self.endpoint], self._assembler.response(),
                                                     self.canonical)
        except Exception:  # noqa: BLE001 - the audit copy must never break a finished stream
            return None

    async def _items(self, source: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The source's items, each read within what is left of the request deadline."""
        if self._deadline is None:
            async for item in source:
                yield item
            return
        it = aiter(source)
        while True:
            left = self._deadline - self._clock()
            if left <= 0:
                raise TimeoutError("request deadline (vmx.timeoutMs) exceeded during the stream")
            try:
                async with asyncio.timeout(left):
                    item = await anext(it)
            except StopAsyncIteration:
                return
            yield item

    # ---- observation ------------------------------------------------------------------------------

    def _observe(self, events: list[CanonicalStreamEvent]) -> None:
        asm = self._assembler
        for ev in events:
            if isinstance(ev, MessageDelta) and ev.usage is not None:
                self.usage = ev.usage if self.usage is None else self.usage.merged(ev.usage)
            elif isinstance(ev, StreamError):
                if not self._emitted:
                    raise ProviderError(ev.status, ev.message, error_type=ev.type)
                self.failure = (ev.status, ev.message, ev.type)
            if asm is not None:
                asm.feed(ev)

    def _inspect(self, name: str | None, obj: dict[str, Any]) -> bool:
        """Read usage (and errors) from one forwarded event; False drops it."""
        shape = self.plan.shape
        u = usage_from_passthrough(shape, obj)
        if u is not None:
            self.usage = u if self.usage is None else self.usage.merged(u)
        err = _passthrough_error(shape, name, obj)
        if err is not None:
            if not self._emitted:
                raise ProviderError(err[0], err[1], error_type=err[2])
            self.failure = err
        if self._parser is not None:
            evs = self._parser.feed((name, obj) if name else obj)
            if self._assembler is not None:
                for ev in evs:
                    self._assembler.feed(ev)
        # a usage-only chunk the client did not ask for (we asked on its behalf) is not forwarded
        return not (self._drop_usage and shape == "openai_chat" and obj.get("choices") == [] and obj.get("usage"))

    # ---- producers ----------------------------------------------------------------------------------

    def _blocks(self, complete: bytes) -> bytes:
        out: list[bytes] = []
        for block in complete.split(b"\n\n"):
            if not block:
                continue
            name, data = _parse_block(block)
            keep = True
            if data is not None and data != _DONE:
                try:
                    obj = orjson.loads(data)
                except orjson.JSONDecodeError:
                    obj = None
                if isinstance(obj, dict):
                    keep = self._inspect(name, obj)
            if keep:
                out.append(block)
                out.append(b"\n\n")
        return b"".join(out)

    async def _sse(self) -> AsyncIterator[bytes]:
        buf = b""
        async for chunk in self._items(self.upstream.raw_chunks):
            if b"\r" in chunk:
                chunk = chunk.replace(b"\r\n", b"\n")
            buf = buf + chunk if buf else chunk
            cut = buf.rfind(b"\n\n")
            if cut < 0:
                continue
            complete, buf = buf[: cut + 2], buf[cut + 2 :]
            yield self._blocks(complete)
        if buf.strip():
            yield self._blocks(buf + b"\n\n")

    async def _invoke(self) -> AsyncIterator[bytes]:
        async for name, data in self._items(self.upstream.events):
            if not isinstance(data, dict) or not name:
                continue
            if self._inspect(name, data):
                yield sse_event(name, data)

    async def _converted(self) -> AsyncIterator[bytes]:
        parser, renderer = self._parser, self._renderer
        assert parser is not None and renderer is not None
        async for ev in self._items(self.upstream.events):
            events = parser.feed(ev)
            self._observe(events)
            if self._keeper is not None:
                await self._keeper.feed(events)
            out = [b for e in events for b in renderer.render(e)]
            if out:
                yield b"".join(out)
        events = parser.finish()
        self._observe(events)
        out = [b for e in events for b in renderer.render(e)]
        if out:
            yield b"".join(out)
