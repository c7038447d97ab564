"""SIGTERM under load on a real gateway process (127.0.0.1, bounded): /readyz turns 503 first, then the
server stops accepting, every in-flight request and stream finishes, and every audit row is written
before the process exits; a stream longer than VMX_SHUTDOWN_GRACE_SECONDS is cut and audited as 499."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, audit_row, make_env
from tests.support.servers import free_port, gateway_command, running

IN_FLIGHT = 16
CLEAN_EXIT = (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled once it has shut down


@pytest.fixture(scope="module")
def env(admin_client: httpx.Client, fake_upstream: FakeUpstream, app_url: str) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "drain")
    fake_upstream.set_default("drain-slow", Behaviour(delay_s=1.5, text="slow answer"))
    fake_upstream.set_default("drain-stream", Behaviour(chunk_delay_s=0.25, text="one two three four five six"))
    fake_upstream.set_default("drain-long", Behaviour(chunk_delay_s=1.0, text=" ".join(["word"] * 20)))
    for model in ("drain-slow", "drain-stream", "drain-long"):
        e.resource(e.slot("openai", model), name=model)
    yield e
    for model in ("drain-slow", "drain-stream", "drain-long"):
        fake_upstream.set_default(model, None)


def _call(url: str, env: Env, model: str, stream: bool, out: list[dict[str, Any]]) -> None:
    body = {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}
    result: dict[str, Any] = {"status": None, "text": ""}
    out.append(result)
    try:
        with httpx.stream("POST", f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions", json=body,
                          headers=env.headers(), timeout=30) as r:
            result.update(status=r.status_code, id=r.headers.get("x-vmx-request-id"))
            for chunk in r.iter_text():
                result["text"] += chunk
    except httpx.HTTPError as exc:
        result["error"] = repr(exc)


def _start(url: str, env: Env, calls: list[tuple[str, bool]], out: list[dict[str, Any]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=_call, args=(url, env, model, stream, out)) for model, stream in calls]
    for t in threads:
        t.start()
    return threads


def _wait_in_flight(fake: FakeUpstream, models: set[str], count: int) -> None:
    deadline = time.monotonic() + 20
    while sum(1 for r in fake.requests if r.model in models) < count:
        assert time.monotonic() < deadline, "the requests never reached the upstream"
        time.sleep(0.05)


def test_sigterm_drains_in_flight_requests_and_streams(env: Env, fake_upstream: FakeUpstream,
                                                       tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc_env = dict(os.environ, VMX_SHUTDOWN_DRAIN_DELAY_SECONDS="1.5", VMX_SHUTDOWN_GRACE_SECONDS="20",
                    VMX_AUDIT_FLUSH_INTERVAL_SECONDS="60")  # rows still queued when the signal comes
    out: list[dict[str, Any]] = []
    before = len(fake_upstream.requests)
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log") as proc:
        calls = [("drain-slow", False), ("drain-stream", True)] * (IN_FLIGHT // 2)
        threads = _start(url, env, calls, out)
        _wait_in_flight(fake_upstream, {"drain-slow", "drain-stream"}, IN_FLIGHT)
        assert len(fake_upstream.requests) - before >= IN_FLIGHT
        os.kill(proc.pid, signal.SIGTERM)
        ready = httpx.get(f"{url}/readyz", timeout=5)  # a new connection, still accepted during the delay
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        deadline = time.monotonic() + 20
        while True:  # then the listener closes
            try:
                httpx.get(f"{url}/healthz", timeout=1)
            except httpx.ConnectError:
                break
            assert time.monotonic() < deadline, "still accepting connections"
            time.sleep(0.1)
        for t in threads:
            t.join(timeout=30)
        assert proc.wait(timeout=30) in CLEAN_EXIT
    assert len(out) == IN_FLIGHT and all(r["status"] == 200 and "error" not in r for r in out), out
    streams = [r for r in out if "data:" in r["text"]]
    assert len(streams) == IN_FLIGHT // 2 and all("[DONE]" in r["text"] for r in streams)
    for r in out:  # flushed on the way out, none lost
        assert audit_row(r["id"], timeout_s=5)["status_code"] == 200


def test_a_stream_longer_than_the_grace_period_is_cut_and_audited(env: Env, fake_upstream: FakeUpstream,
                                                                  tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc_env = dict(os.environ, VMX_SHUTDOWN_GRACE_SECONDS="1")
    out: list[dict[str, Any]] = []
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log") as proc:
        threads = _start(url, env, [("drain-long", True)], out)
        _wait_in_flight(fake_upstream, {"drain-long"}, 1)
        time.sleep(0.5)  # the stream has started
        os.kill(proc.pid, signal.SIGTERM)
        for t in threads:
            t.join(timeout=40)
        assert proc.wait(timeout=30) in CLEAN_EXIT
    (result,) = out
    assert result["status"] == 200 and "data:" in result["text"]
    assert "[DONE]" not in result["text"], "the 20 s stream should have been cut after the 1 s grace"
    assert audit_row(result["id"], timeout_s=5)["status_code"] == 499
