"""Size and nesting limits of management request bodies, enforced before any route sees them.

A management body over `VMX_MAX_MANAGEMENT_BODY_BYTES` answers 413 as soon as the limit is crossed
(Content-Length or not: chunked bodies are counted while they are read), and a JSON body nested deeper
than `VMX_MAX_JSON_DEPTH` answers 400, so a 300-deep `defaultArgs` is never stored to break every later
list and completion (DESIGN §11). Text no database can store (NUL characters, unpaired UTF-16
surrogates: PostgreSQL refuses both) answers 400 instead of a 500. Completion routes have their own limit
and shape; Reflex's own routes (console websocket, uploads) are not ours to judge.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmx_app.api.errors import error_body
from vmx_app.api.responses import OrjsonResponse
from vmx_app.settings import get_settings

COMPLETION_PREFIX = "/v1/completion/"
BATCH_PREFIX = "/v1/completion-batch/"  # a batch of up to 50,000 items: VMX_BATCH_MAX_BODY_BYTES

# A JSON string as one token (so brackets inside strings do not count), or one bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when `body`'s arrays/objects nest deeper than `limit`. Linear in the body's size; a body that
    is not JSON is left to the route's own validation."""
    depth = 0
    for match in _TOKENS.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # paired surrogates were joined by the parser


def unstorable_text(body: bytes) -> bool:
    """True when a JSON body holds a string (or key) with NUL or an unpaired surrogate. Both can only
    arrive as `\\u` escapes (raw NUL bytes are not JSON; raw surrogates are not UTF-8), so bodies without
    one are not parsed here."""
    if b"\\u" not in body:
        return False
    try:
        value = json.loads(body)
    except ValueError:
        return False  # not JSON: the route's validation answers
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def is_management_path(path: str) -> bool:
    return path.startswith("/v1/") and not path.startswith(COMPLETION_PREFIX)


class ManagementBodyLimits:
    """Pure ASGI middleware: reads a management body (bounded), checks it, replays it to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        settings = get_settings()
        self.max_bytes = settings.vmx_max_management_body_bytes
        self.batch_max_bytes = settings.vmx_batch_max_body_bytes
        self.max_depth = settings.vmx_max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_management_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await _answer(scope, receive, send, 400, "invalid_request", "NUL characters are not allowed in URLs")
            return
        batch = scope["path"].startswith(BATCH_PREFIX)
        max_bytes = self.batch_max_bytes if batch else self.max_bytes
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await self._too_large(scope, receive, send, batch)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await self._too_large(scope, receive, send, batch)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and json_depth_exceeds(body, self.max_depth):
            await _answer(scope, receive, send, 400, "invalid_request",
                          f"JSON nested deeper than {self.max_depth} levels (VMX_MAX_JSON_DEPTH)")
            return
        if body and unstorable_text(body):
            await _answer(scope, receive, send, 400, "invalid_request",
                          "JSON strings may not contain NUL characters (\\u0000) or unpaired surrogates")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, batch: bool) -> None:
        limit, name = (self.batch_max_bytes, "VMX_BATCH_MAX_BODY_BYTES") if batch else \
            (self.max_bytes, "VMX_MAX_MANAGEMENT_BODY_BYTES")
        await _answer(scope, receive, send, 413, "payload_too_large", f"Request body over {limit} bytes ({name})")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _answer(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
    # Connection: close, since the rest of an oversized body is never read.
    response = OrjsonResponse(error_body(code, message), status_code=status, headers={"Connection": "close"})
    await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as with the real stream

    return replay
