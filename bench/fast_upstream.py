"""A fast fake OpenAI upstream for the benchmark: a raw asyncio protocol on uvloop with httptools parsing.

It answers ``POST …/chat/completions`` with a fixed-size OpenAI JSON body, or with an SSE stream when the
body says ``"stream": true`` (role chunk and first word at once, the others ``--chunk-interval-ms`` apart,
so a gateway that buffers the stream shows it in time-to-first-token), and ``GET …/models``. Everything else is 404.
No aiohttp, no per-request objects beyond the parsed body: at 3,000 req/s it costs a few percent of a core,
so it is never the bottleneck (``bench/run.py --upstream-only`` measures it alone).

Run: ``python bench/fast_upstream.py --port 8900 [--chunk-interval-ms 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import cast

import httptools
import orjson

_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}
_ANSWER = "Hello! This is the benchmark upstream answering your request."
_STREAM_WORDS = ["Hello", "!", " This", " is", " a", " stream", "."]


def chat_body(model: str) -> bytes:
    return orjson.dumps({
        "id": "chatcmpl-bench0000000000000000000000",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_bench",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": _ANSWER, "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": 12, "completion_tokens": 13, "total_tokens": 25,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
    })


def stream_events(model: str, include_usage: bool) -> list[bytes]:
    """The SSE events of one streamed answer, each already framed as ``data: …\\n\\n``."""
    base = {"id": "chatcmpl-bench-stream", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": model, "system_fingerprint": "fp_bench"}
    chunks: list[dict[str, object]] = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    ]
    chunks += [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
               for w in _STREAM_WORDS]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 7,
                                                         "total_tokens": 19}})
    return [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]


def models_body() -> bytes:
    return orjson.dumps({"object": "list", "data": [
        {"id": m, "object": "model", "created": 0, "owned_by": "bench"} for m in ("gpt-4o-mini", "gpt-4o")
    ]})


def _head(status: int, content_type: bytes, length: int | None, keep_alive: bool) -> bytes:
    lines = [b"HTTP/1.1 %d %s" % (status, _REASONS.get(status, b"Error")), b"content-type: " + content_type,
             b"x-ratelimit-limit-requests: 10000", b"x-ratelimit-remaining-requests: 9999"]
    lines.append(b"content-length: %d" % length if length is not None else b"transfer-encoding: chunked")
    lines.append(b"connection: keep-alive" if keep_alive else b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"


class _Protocol(asyncio.Protocol):
    """One connection; requests are answered in order (no pipelining overlap: streams are awaited)."""

    def __init__(self, server: FastUpstream) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body = bytearray()
        self.pending: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._send(400, b"application/json", b'{"error":{"message":"bad request"}}', keep_alive=False)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pending is not None:
            self.pending.cancel()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body.clear()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        method = self.parser.get_method()
        path = self.url.split(b"?", 1)[0]
        if method == b"POST" and path.endswith(b"/chat/completions"):
            self._chat(keep_alive)
        elif method == b"GET" and path.endswith(b"/models"):
            self._send(200, b"application/json", self.server.models, keep_alive)
        else:
            self._send(404, b"application/json", b'{"error":{"message":"not found"}}', keep_alive)

    def _chat(self, keep_alive: bool) -> None:
        try:
            req = orjson.loads(self.body)
            model = str(req["model"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self._send(400, b"application/json", b'{"error":{"message":"invalid body"}}', keep_alive)
            return
        if req.get("stream"):
            usage = bool((req.get("stream_options") or {}).get("include_usage"))
            self.transport.pause_reading()  # type: ignore[union-attr]  # next request waits for this stream
            self.pending = asyncio.get_running_loop().create_task(self._stream(model, usage, keep_alive))
            return
        body = self.server.bodies.get(model)
        if body is None:
            body = self.server.bodies[model] = chat_body(model)
        self._send(200, b"application/json", body, keep_alive)

    async def _stream(self, model: str, include_usage: bool, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        events = stream_events(model, include_usage)
        # Role chunk and first word go out at once: time-to-first-token is then the gateway's own cost.
        transport.write(_head(200, b"text/event-stream", None, keep_alive) + _chunk(events[0]) + _chunk(events[1]))
        for event in events[2:]:
            if self.server.interval_s:
                await asyncio.sleep(self.server.interval_s)
            if transport.is_closing():
                return
            transport.write(_chunk(event))
        transport.write(b"0\r\n\r\n")
        self.pending = None
        if keep_alive:
            transport.resume_reading()
        else:
            transport.close()

    def _send(self, status: int, content_type: bytes, body: bytes, keep_alive: bool) -> None:
        transport = self.transport
        assert transport is not None
        transport.write(_head(status, content_type, len(body), keep_alive) + body)
        if not keep_alive:
            transport.close()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class FastUpstream:
    def __init__(self, chunk_interval_ms: float = 2.0) -> None:
        self.interval_s = chunk_interval_ms / 1000
        self.bodies: dict[str, bytes] = {}
        self.models = models_body()

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _Protocol(self), host, port, backlog=1024, reuse_address=True)

    async def serve(self, host: str, port: int) -> None:
        server = await self.start(host, port)
        print(f"fast upstream listening on http://{host}:{port}", flush=True)
        async with server:
            await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fast fake OpenAI upstream for the benchmark.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--chunk-interval-ms", type=float, default=2.0, help="delay between streamed chunks")
    args = parser.parse_args(argv)
    import uvloop

    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(FastUpstream(args.chunk_interval_ms).serve(args.host, args.port))


if __name__ == "__main__":
    main()
