"""Fallback over HTTP: the primary answers 500 / 429 / hangs past its timeoutMs / refuses the
connection / cuts its stream, the next model answers, and the headers and the audit row show every
leg; a cut after the first streamed byte ends with an error event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, audit_row, make_env

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    e = make_env(app_url, admin_client, fake_upstream, "fallback")
    e.connection("refused", "openai", {"apiKey": "k", "baseUrl": fake_upstream.refused_url() + "/v1"})
    # Distinct primary model names per scenario keep the scripts (and the circuit breaker) apart.
    for name, primary in [
        ("fb-500", e.slot("openai", "fb-500-model")),
        ("fb-429", e.slot("openai", "fb-429-model")),
        ("fb-hang", e.slot("openai", "fb-hang-model", timeoutMs=300)),
        ("fb-refused", {"provider": "openai", "model": "gpt-4o", "connectionId": e.connections["refused"]}),
        ("fb-cut", e.slot("anthropic", "fb-cut-model")),
        ("fb-late-cut", e.slot("openai", "fb-late-cut-model")),
        ("fb-chain", e.slot("openai", "fb-chain-a")),
    ]:
        fallbacks = [e.slot("anthropic", "claude-sonnet-4-5")]
        if name == "fb-chain":
            fallbacks = [e.slot("bedrock", "fb-chain-b"), e.slot("anthropic", "fb-chain-c")]
        e.resource(primary, name=name, useFallback=True, fallbackModels=fallbacks)
    yield e


@pytest.fixture(scope="module")
def http(env: Env) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as c:
        yield c


def leg(headers: httpx.Headers, i: int) -> tuple[str, str, str, str]:
    p = f"x-vmx-event-{i}-"
    return (headers[p + "type"], headers[p + "fallback-failed-model"], headers[p + "fallback-failure-reason"],
            headers[p + "fallback-status-code"])


@pytest.mark.parametrize(("resource", "script", "failed", "reason", "status"), [
    ("fb-500", ("fb-500-model", Behaviour(status=500)), "fb-500-model", "server_error", "500"),
    ("fb-429", ("fb-429-model", Behaviour(status=429, headers={"retry-after": "1"})), "fb-429-model",
     "rate_limited", "429"),
    ("fb-hang", ("fb-hang-model", Behaviour(delay_s=1.5)), "fb-hang-model", "timeout", "504"),
    ("fb-refused", None, "gpt-4o", "network_error", "502"),
])
def test_non_stream_fallback(http: httpx.Client, fake_upstream: FakeUpstream, resource: str,
                             script: tuple[str, Behaviour] | None, failed: str, reason: str, status: str) -> None:
    if script is not None:
        fake_upstream.script(*script)
    r = http.post("/chat/completions", json={"model": resource, **CHAT})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "Hello from claude-sonnet-4-5"
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5" and r.headers["x-vmx-event-count"] == "1"
    assert leg(r.headers, 0) == ("fallback", failed, reason, status)
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 200 and row["model"] == "claude-sonnet-4-5" and row["provider"] == "anthropic"
    [event] = row["events"]
    assert (event["type"], event["model"], event["failureReason"], event["statusCode"]) == (
        "fallback", failed, reason, int(status))


def sse(raw: bytes) -> list[tuple[str | None, Any]]:
    out: list[tuple[str | None, Any]] = []
    for block in raw.split(b"\n\n"):
        lines = block.decode().splitlines()
        name = next((x[6:].strip() for x in lines if x.startswith("event:")), None)
        data = "".join(x[5:].strip() for x in lines if x.startswith("data:"))
        if data:
            out.append((name, data if data == "[DONE]" else orjson.loads(data)))
    return out


def test_stream_cut_before_first_byte_falls_back(http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    fake_upstream.script("fb-cut-model", Behaviour(cut_after_chunks=0))
    with http.stream("POST", "/anthropic/v1/messages",
                     json={"model": "fb-cut", "max_tokens": 50, "stream": True, **CHAT}) as r:
        body = r.read()
    assert r.status_code == 200 and leg(r.headers, 0) == ("fallback", "fb-cut-model", "network_error", "502")
    events = sse(body)
    assert events[-1][0] == "message_stop"
    assert "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta") == \
        "Hello from claude-sonnet-4-5"
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 200 and row["events"][0]["model"] == "fb-cut-model" and row["stream"]


def test_stream_cut_after_first_byte_ends_with_error_event(http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    fake_upstream.script("fb-late-cut-model", Behaviour(cut_after_chunks=2, text="a b c d e f g h"))
    with http.stream("POST", "/chat/completions", json={"model": "fb-late-cut", "stream": True, **CHAT}) as r:
        body = r.read()
    assert r.status_code == 200 and r.headers["x-vmx-model"] == "fb-late-cut-model"
    events = sse(body)
    assert "error" in events[-1][1] and (None, "[DONE]") not in events
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 502 and row["error_message"] and row["stream"]


def test_every_leg_failing_is_502_with_every_leg_recorded(http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    for model in ("fb-chain-a", "fb-chain-b", "fb-chain-c"):
        fake_upstream.script(model, Behaviour(status=503, error_message=f"{model} overloaded"))
    r = http.post("/responses", json={"model": "fb-chain", "input": "hi"})
    assert r.status_code == 503, r.text
    assert "fb-chain-c overloaded" in r.json()["error"]["message"]
    assert [leg(r.headers, i)[1] for i in range(3)] == ["fb-chain-a", "fb-chain-b", "fb-chain-c"]
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 503 and [e["slot"] for e in row["events"]] == [
        "model", "fallbackModels[0]", "fallbackModels[1]"]
