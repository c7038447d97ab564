"""Ordered shutdown on SIGTERM/SIGINT: /readyz answers 503 first (load balancers stop sending), then, after
VMX_SHUTDOWN_DRAIN_DELAY_SECONDS, the server's own handler runs: it stops accepting and drains in-flight
requests and streams (uvicorn: up to VMX_SHUTDOWN_GRACE_SECONDS), then the lifespan's exit flushes the
audit queue and telemetry and closes the pools.

The server (uvicorn, one worker or many, or Reflex's) installs its handlers before the lifespan starts;
ours wraps them, so the same order holds whatever serves the app."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("vmx.lifecycle")
_draining = False
_draining_since = 0.0  # time.monotonic() of the first signal


def is_draining() -> bool:
    return _draining


def begin_draining() -> None:
    global _draining, _draining_since
    if not _draining:
        _draining_since = time.monotonic()
    _draining = True


def grace_left(delay_s: float, grace_s: float) -> float:
    """What is left of the shutdown's one grace period: the server stops accepting `delay_s` after the
    signal and drains for up to `grace_s`; work that ends after it (the batch worker's items) must end by
    then too, not take a grace of its own. The whole `grace_s` when no signal came."""
    if not _draining:
        return grace_s
    return max(0.0, _draining_since + delay_s + grace_s - time.monotonic())


def reset() -> None:
    """Tests and a restarted lifespan in the same process."""
    global _draining
    _draining = False


def install_drain_handlers(delay_s: float, loop: asyncio.AbstractEventLoop | None = None) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # a server running the app off the main thread handles signals itself (Python cannot here)
    loop = loop or asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue  # default/ignored: nothing to hand over to (the server did not install one)
        signal.signal(sig, _handler(previous, delay_s, loop))


def _handler(previous: Callable[[int, FrameType | None], Any], delay_s: float,
             loop: asyncio.AbstractEventLoop) -> Callable[[int, FrameType | None], None]:
    def handle(sig: int, frame: FrameType | None) -> None:
        if _draining:  # a second signal: no more waiting (uvicorn then exits at once on SIGINT)
            previous(sig, frame)
            return
        begin_draining()
        log.info("shutdown: draining (readyz 503); the server stops accepting in %.1fs", delay_s)
        if delay_s <= 0:
            previous(sig, frame)
        else:
            loop.call_soon_threadsafe(loop.call_later, delay_s, previous, sig, frame)

    return handle
