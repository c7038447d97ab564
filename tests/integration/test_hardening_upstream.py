"""Upstream failures the caller must not see raw, and upstreams that misbehave (issue 9): credentials
refused, silence, conversion failures on fallback legs, retries, and clients closed at shutdown."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import Env, audit_row, make_env
from tests.support.servers import gateway_with

CHAT = {"messages": [{"role": "user", "content": "hi"}]}
LEAK = "Incorrect API key provided: sk-proj-****************abcd"


@pytest.fixture(scope="module")
def env(app_url: str, admin_client: httpx.Client, fake_upstream: FakeUpstream) -> Iterator[Env]:
    yield make_env(app_url, admin_client, fake_upstream, "upstream")


@pytest.fixture(scope="module")
def http(env: Env) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=env.base_url, headers=env.headers(), timeout=30) as c:
        yield c


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_auth_refusal_is_502_naming_the_connection(env: Env, http: httpx.Client, fake_upstream: FakeUpstream,
                                                            status: int, stream: bool) -> None:
    model = f"auth-{status}-{stream}"
    env.resource(env.slot("openai", model), name=model)
    fake_upstream.script(model, Behaviour(status=status, error_message=LEAK))
    r = http.post("/chat/completions", json={"model": model, **CHAT, "stream": stream})
    assert r.status_code == 502, r.text
    assert r.json()["error"]["message"] == "upstream authentication failed for connection openai-conn"
    assert "sk-proj" not in r.text and "sk-proj" not in str(r.headers)
    row = audit_row(r.headers["x-vmx-request-id"])
    assert row["status_code"] == 502 and LEAK in row["events"][0]["errorMessage"]


@pytest.mark.parametrize("status", [401, 403])
def test_count_tokens_auth_refusal_is_502_naming_the_connection(env: Env, http: httpx.Client,
                                                                fake_upstream: FakeUpstream, status: int) -> None:
    model = f"count-auth-{status}"
    env.resource(env.slot("anthropic", model), name=model)
    fake_upstream.script(model, Behaviour(status=status, error_message=LEAK))
    r = http.post("/anthropic/v1/messages/count_tokens", json={"model": model, **CHAT})
    assert r.status_code == 502, r.text
    body = r.json()
    assert body["type"] == "error" and "sk-proj" not in r.text
    assert body["error"]["message"] == "upstream authentication failed for connection anthropic-conn"



async def test_provider_clients_are_closed_at_shutdown(fake_upstream: FakeUpstream) -> None:
    """The process's shutdown (the lifespan both servers run) closes every provider client it opened."""
    from vmx_app.gateway.adapters import UpstreamCall, get_adapter
    from vmx_app.gateway.config import ConnectionSnapshot
    from vmx_app.lifecycle import lifespan

    conns = [ConnectionSnapshot(id=f"shutdown-{provider}", workspace_id="w", environment_id="e", name=provider,
                                provider=provider, config=config)
             for provider, config in [("openai", {"apiKey": "sk-test", "baseUrl": fake_upstream.openai_url}),
                                      ("anthropic", {"apiKey": "sk-ant-test", "baseUrl": fake_upstream.url + "/v1"})]]
    async with lifespan():
        openai, claude = (get_adapter(c) for c in conns)
        answer = await openai.send(UpstreamCall("openai-chat", "gpt-4o", {"model": "gpt-4o", **CHAT}, False, 30.0,
                                                None))
        assert answer.status == 200
        counted = await claude.count_tokens({"model": "claude-sonnet-4-5", **CHAT}, None, 30.0)  # type: ignore[attr-defined]
        assert counted.status == 200
        sessions = [a._client._session for a in (openai, claude)]  # type: ignore[attr-defined]
        assert all(s is not None and not s.closed for s in sessions)
    assert all(s.closed for s in sessions)


def test_retries_count_as_one_failure(env: Env, http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    """maxRetries 4 failing five times is ONE failure: the circuit (5 failures) stays closed for the next
    caller, and errorRate after one failed and one good request is 50 %, not 5 of 6."""
    model = "retry-once-model"
    created = env.resource(env.slot("openai", model, maxRetries=4), name="retry-once")
    fake_upstream.script(model, *[Behaviour(status=500)] * 5)
    failed = http.post("/chat/completions", json={"model": "retry-once", **CHAT})
    assert failed.status_code == 502, failed.text
    assert len(fake_upstream.requests_for(model)) == 5
    good = http.post("/chat/completions", json={"model": "retry-once", **CHAT})
    assert good.status_code == 200, good.text  # not 503 "circuit open"
    rule = {"enabled": True, "conditions": [{"if": [{"field": "errorRate", "operator": "greaterThan", "value": 60}],
                                             "then": env.slot("groq")}]}
    dry = env.admin.post(f"/v1/ai-resource/{env.ws}/{env.env}/{created['id']}/routing-test",
                         json={"request": {"model": "retry-once", **CHAT}, "routing": rule})
    assert dry.status_code == 200, dry.text
    assert dry.json()["action"] == "none", dry.json()["trace"]
    assert "errorRate(10m)=50.0" in dry.json()["trace"][0]


N2 = {**CHAT, "n": 2}  # several choices: no Anthropic request can ask for that


def test_a_leg_that_cannot_be_built_is_a_failed_leg_and_the_chain_goes_on(
        env: Env, http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    env.resource(env.slot("openai", "conv-primary"), name="conv-chain", useFallback=True,
                 fallbackModels=[env.slot("anthropic"), env.slot("openai", "conv-last")])
    fake_upstream.script("conv-primary", Behaviour(status=500))
    r = http.post("/chat/completions", json={"model": "conv-chain", **N2})
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-model"] == "conv-last"
    row = audit_row(r.headers["x-vmx-request-id"])
    assert [(e["slot"], e["failureReason"]) for e in row["events"]] == [
        ("model", "server_error"), ("fallbackModels[0]", "conversion_error")]


def test_primary_failure_is_answered_when_the_fallback_cannot_be_built(
        env: Env, http: httpx.Client, fake_upstream: FakeUpstream) -> None:
    env.resource(env.slot("openai", "conv-only-primary"), name="conv-pair", useFallback=True,
                 fallbackModels=[env.slot("anthropic")])
    fake_upstream.script("conv-only-primary", Behaviour(status=500))
    r = http.post("/chat/completions", json={"model": "conv-pair", **N2})
    assert r.status_code == 502, r.text  # the primary's 500, not the fallback's 400
    assert len(audit_row(r.headers["x-vmx-request-id"])["events"]) == 2


def test_400_only_when_no_leg_could_be_built(env: Env, http: httpx.Client) -> None:
    env.resource(env.slot("anthropic"), name="conv-none", useFallback=True,
                 fallbackModels=[env.slot("bedrock")])
    r = http.post("/chat/completions", json={"model": "conv-none", **N2})
    assert r.status_code == 400, r.text
    assert audit_row(r.headers["x-vmx-request-id"])["status_code"] == 400


@pytest.mark.parametrize("where", ["slot", "request"])
def test_stream_deadline_covers_headers_and_first_event_together(
        env: Env, http: httpx.Client, fake_upstream: FakeUpstream, where: str) -> None:
    """timeoutMs 1000; headers after 0.7 s and the first event 0.7 s later: over budget (each part alone
    is within it, which used to let the slow stream through). The slot's budget leaves the fallback to
    answer; the request's budget is spent, so the request times out."""
    model = f"slow-first-{where}"
    slot = env.slot("openai", model, **({"timeoutMs": 1000} if where == "slot" else {}))
    env.resource(slot, name=model, useFallback=True, fallbackModels=[env.slot("anthropic")])
    fake_upstream.script(model, Behaviour(delay_s=0.7, first_chunk_delay_s=0.7))
    body = {"model": model, **CHAT, "stream": True, **({"vmx": {"timeoutMs": 1000}} if where == "request" else {})}
    with http.stream("POST", "/chat/completions", json=body) as r:
        r.read()
    assert r.headers["x-vmx-event-0-fallback-failure-reason"] == "timeout"
    if where == "slot":
        assert r.status_code == 200 and r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    else:
        assert r.status_code == 504


@pytest.fixture(scope="module")
def short_upstream_timeouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose provider calls may take 1 s to connect and stay silent 1 s at most."""
    log = tmp_path_factory.mktemp("upstream-timeouts") / "gateway.log"
    with gateway_with({"VMX_UPSTREAM_CONNECT_TIMEOUT_SECONDS": "1", "VMX_UPSTREAM_READ_TIMEOUT_SECONDS": "1"},
                      log) as url:
        yield url


@pytest.fixture
def unaccepting_port() -> Iterator[int]:
    """A port whose accept queue is full: a connection attempt gets no answer (SYNs are dropped)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fillers.append(c)
    try:
        yield port
    finally:
        for c in fillers:
            c.close()
        server.close()


def test_silent_provider_hits_the_read_timeout_and_falls_back(
        env: Env, fake_upstream: FakeUpstream, short_upstream_timeouts: str) -> None:
    env.resource(env.slot("openai", "silent-model"), name="silent", useFallback=True,
                 fallbackModels=[env.slot("anthropic")])
    fake_upstream.script("silent-model", Behaviour(delay_s=4))
    r = httpx.post(f"{short_upstream_timeouts}/v1/completion/{env.ws}/{env.env}/chat/completions",
                   json={"model": "silent", **CHAT}, headers=env.headers(), timeout=20)
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-model"] == "claude-sonnet-4-5"
    assert r.headers["x-vmx-event-0-fallback-failure-reason"] == "timeout"


def test_unreachable_provider_hits_the_connect_timeout_and_falls_back(
        env: Env, short_upstream_timeouts: str, unaccepting_port: int) -> None:
    env.connection("blackhole", "openai", {"apiKey": "k", "baseUrl": f"http://127.0.0.1:{unaccepting_port}/v1"})
    env.resource({"provider": "openai", "model": "gpt-4o", "connectionId": env.connections["blackhole"]},
                 name="blackhole", useFallback=True, fallbackModels=[env.slot("anthropic")])
    r = httpx.post(f"{short_upstream_timeouts}/v1/completion/{env.ws}/{env.env}/chat/completions",
                   json={"model": "blackhole", **CHAT}, headers=env.headers(), timeout=20)
    assert r.status_code == 200, r.text
    assert r.headers["x-vmx-event-0-fallback-failure-reason"] == "timeout"
