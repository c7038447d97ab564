"""Fake upstream provider server for gateway tests and benchmarks.

Speaks OpenAI Chat Completions and Responses, Anthropic Messages (+ count_tokens), OpenAI-style
model lists, and Bedrock Converse / ConverseStream / InvokeModel / InvokeModelWithResponseStream,
matching routes by path suffix so any base-URL prefix works.

In tests::

    with FakeUpstream() as fake:
        fake.script("gpt-4o", Behaviour(status=429, headers={"retry-after": "1"}), Behaviour(text="ok"))
        client = OpenAI(base_url=fake.openai_url, api_key="k")
        ...
        assert fake.requests_for("gpt-4o")[0].json["messages"]

Standalone (benchmarks; no logging, no recording): ``python -m tests.fakes.upstream --port 8900 [--workers 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import signal
import socket
import sys
import threading
from types import TracebackType
from typing import Self

from aiohttp import web

from tests.fakes.upstream_app import DEFAULT_MODELS, UpstreamState, build_app
from tests.fakes.upstream_behaviour import Behaviour, RecordedRequest, ToolCall, Usage

__all__ = ["Behaviour", "FakeUpstream", "RecordedRequest", "ToolCall", "Usage"]


class FakeUpstream(UpstreamState):
    """The fake provider, served from its own event loop in a background thread so that sync tests,
    async tests and the app under test can all reach it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        record: bool = True,
        models: tuple[str, ...] = DEFAULT_MODELS,
        shutdown_timeout: float = 0.5,
    ) -> None:
        super().__init__(record=record, models=models)
        self.host = host
        self._requested_port = port
        self._shutdown_timeout = shutdown_timeout
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._start_error: BaseException | None = None
        self._refusing: socket.socket | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        if self._thread is not None:
            return self
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fake-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake upstream did not start within 10 s")
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"fake upstream failed to start: {self._start_error}") from self._start_error
        return self

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start() in the calling thread
            self._start_error = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            if self._runner is not None:
                loop.run_until_complete(self._runner.cleanup())
            loop.close()

    async def _serve(self) -> None:
        self._runner = web.AppRunner(
            build_app(self), access_log=None, handle_signals=False, shutdown_timeout=self._shutdown_timeout
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port, reuse_address=True)
        await site.start()
        self._port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._port = None
        if self._refusing is not None:
            self._refusing.close()
            self._refusing = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("fake upstream is not running: call start() first")
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the Anthropic SDK's base_url and Bedrock's endpoint_url."""
        return f"http://{self.host}:{self.port}"

    @property
    def openai_url(self) -> str:
        """Base URL for the OpenAI SDK (``…/v1``)."""
        return f"{self.url}/v1"

    def refused_url(self) -> str:
        """A URL whose port refuses connections: the socket is bound (so nobody else takes the port)
        but never listens, which makes the kernel answer every connect with a reset."""
        if self._refusing is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            self._refusing = sock
        return f"http://127.0.0.1:{self._refusing.getsockname()[1]}"


def _serve_forever(host: str, port: int, record: bool, reuse_port: bool) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    web.run_app(
        build_app(UpstreamState(record=record)),
        host=host,
        port=port,
        reuse_port=reuse_port,
        access_log=None,
        print=None,
        shutdown_timeout=1.0,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake upstream provider (OpenAI, Anthropic, Bedrock).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--workers", type=int, default=1, help="processes sharing the port (SO_REUSEPORT)")
    parser.add_argument("--record", action="store_true", help="keep every request in memory (off: benchmarks)")
    args = parser.parse_args(argv)
    print(f"fake upstream listening on http://{args.host}:{args.port} ({args.workers} worker(s))", flush=True)
    if args.workers <= 1:
        _serve_forever(args.host, args.port, args.record, reuse_port=False)
        return
    workers = [
        multiprocessing.Process(target=_serve_forever, args=(args.host, args.port, args.record, True), daemon=True)
        for _ in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    # Without this a SIGTERM would kill only this parent and orphan the workers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        for worker in workers:
            worker.join()
    except KeyboardInterrupt:
        pass
    finally:
        for worker in workers:
            worker.terminate()


if __name__ == "__main__":
    main()
