"""Clients that send their request slowly, or nothing, are cut off (DESIGN §11, issue 9).

- The request head: `VMX_HEADER_READ_TIMEOUT_SECONDS` from the connection (or the first byte of the
  next request on a kept-alive connection) to the end of the headers. uvicorn has no such limit, so
  `vmx gateway` runs it with `HeaderTimeoutProtocol`; Reflex's granian gets its `header_read_timeout`.
- The body: `VMX_BODY_READ_TIMEOUT_SECONDS` for the whole body, enforced in ASGI by `BodyReadDeadline`
  (the same for both servers): 408 and the connection closed.
- An idle kept-alive connection: `VMX_KEEPALIVE_TIMEOUT_SECONDS` (uvicorn's `timeout_keep_alive`; in
  granian, run as HTTP/1 only, the header timeout also bounds a silent connection and the wait for the
  next request).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from vmx_app.settings import get_settings

_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain\r\ncontent-length: 20\r\n"
        b"connection: close\r\n\r\nrequest read timeout")


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on the request head."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._head_timer is None:  # a kept-alive connection's next request
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(get_settings().vmx_header_read_timeout_seconds, self._head_late)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.write(_408)
            self.transport.close()


class BodyReadDeadline:
    """ASGI wrapper: the whole request body must arrive within the deadline, counted from the app's
    first read; then 408 (when nothing was answered yet) and `connection: close`. Reads after the body
    (waiting for a disconnect during a stream) are not limited."""

    def __init__(self, app: ASGIApp, timeout_s: float | None = None) -> None:
        self.app = app
        self.timeout_s = get_settings().vmx_body_read_timeout_seconds if timeout_s is None else timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        guard = _BodyGuard(receive, send, self.timeout_s)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.timed_out:
                raise  # a failure of the app's own: the server's handling as usual


class _BodyGuard:
    __slots__ = ("_receive", "_send", "_timeout_s", "_deadline", "_body_done", "_started", "timed_out")

    def __init__(self, receive: Receive, send: Send, timeout_s: float) -> None:
        self._receive, self._send, self._timeout_s = receive, send, timeout_s
        self._deadline: float | None = None
        self._body_done = False
        self._started = False
        self.timed_out = False

    async def receive(self) -> Message:
        if self._body_done or self.timed_out:
            return await self._receive() if not self.timed_out else {"type": "http.disconnect"}
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            self._deadline = loop.time() + self._timeout_s
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            await self._time_out()
            return {"type": "http.disconnect"}
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self.timed_out:
            return  # the 408 went out; whatever the app answers after the disconnect is dropped
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    async def _time_out(self) -> None:
        self.timed_out = True
        if self._started:
            return
        self._started = True
        await self._send({"type": "http.response.start", "status": 408,
                          "headers": [(b"content-type", b"text/plain"), (b"connection", b"close")]})
        await self._send({"type": "http.response.body", "body": b"request body read timeout"})


def granian_http1_settings() -> Any:
    """granian's HTTP/1 settings with our head timeout (milliseconds), for the Reflex-hosted server."""
    from granian.http import HTTP1Settings

    return HTTP1Settings(header_read_timeout=int(get_settings().vmx_header_read_timeout_seconds * 1000))


def install_granian_limits() -> None:
    """Reflex builds granian's `Server` itself with no HTTP/1 settings; give it ours by default.
    Called from rxconfig.py, which Reflex loads before it starts the server."""
    import granian.server
    from granian.constants import HTTPModes

    base = granian.server.Server
    if getattr(base, "vmx_limits", False):
        return

    class VmxGranian(base):  # type: ignore[misc, valid-type]
        vmx_limits = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("http1_settings") is None:
                kwargs["http1_settings"] = granian_http1_settings()
            # In `auto` mode the wait for the first bytes (HTTP/1 or HTTP/2?) has no deadline, so a
            # connection that sends nothing is held forever; browsers never speak cleartext HTTP/2.
            if kwargs.get("http") in (None, HTTPModes.auto):
                kwargs["http"] = HTTPModes.http1
            super().__init__(*args, **kwargs)

    granian.server.Server = VmxGranian  # type: ignore[misc]
