"""The engine in-process: real adapters against the fake upstream, an in-memory config source and a
list audit sink. Covers auth, bad input, pass-through and headers, audit records and spans."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.fakes.upstream import Behaviour, FakeUpstream
from vmx_app.gateway import catalog
from vmx_app.gateway.adapters import get_adapter
from vmx_app.gateway.audit import AuditRecord
from vmx_app.gateway.capacity.gate import AllowAllGate
from vmx_app.gateway.config import ApiKeySnapshot, ConnectionSnapshot, EnvironmentSnapshot, ResourceSnapshot
from vmx_app.gateway.deps import EngineDeps
from vmx_app.gateway.engine import Engine, GatewayRequest, GatewayResponse
from vmx_app.gateway.fallback import CircuitBreaker
from vmx_app.gateway.metrics import ErrorRateCounters

pytestmark = pytest.mark.usefixtures("close_adapters")  # fixtures: tests/unit/conftest.py

WS, ENV = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
KEY = "vmx-" + "k" * 48
KEY_HASH = hashlib.sha256(KEY.encode()).hexdigest()
BEDROCK = {"region": "us-east-1", "accessKeyId": "AKIAFAKEFAKEFAKE", "secretAccessKey": "secret"}


# ---- harness -----------------------------------------------------------------------------------------

@dataclass
class MemoryConfig:
    resources: dict[tuple[str, str], ResourceSnapshot] = field(default_factory=dict)
    connections: dict[str, ConnectionSnapshot] = field(default_factory=dict)
    keys: dict[str, ApiKeySnapshot] = field(default_factory=dict)
    environments: dict[str, EnvironmentSnapshot] = field(default_factory=dict)

    async def get_resource(self, environment_id: str, name: str) -> ResourceSnapshot | None:
        return self.resources.get((environment_id, name))

    async def get_connection(self, connection_id: str) -> ConnectionSnapshot | None:
        return self.connections.get(connection_id)

    async def get_connection_by_name(self, environment_id: str, name: str) -> ConnectionSnapshot | None:
        return next((c for c in self.connections.values()
                     if c.environment_id == environment_id and c.name == name), None)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeySnapshot | None:
        return self.keys.get(key_hash)

    async def list_resources(self, environment_id: str) -> list[ResourceSnapshot]:
        return [r for (env, _), r in self.resources.items() if env == environment_id]

    async def get_environment(self, environment_id: str) -> EnvironmentSnapshot | None:
        return self.environments.get(environment_id)

    async def environment_exists(self, workspace_id: str, environment_id: str) -> bool:
        env = self.environments.get(environment_id)
        return env is not None and env.workspace_id == workspace_id


class ListSink:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def submit(self, record: AuditRecord) -> None:
        self.records.append(record)


def connection_config(provider: str, fake: FakeUpstream) -> dict[str, Any]:
    if provider in ("bedrock", "bedrock-invoke"):
        return {**BEDROCK, "endpointUrl": fake.url}
    if provider == "anthropic":
        return {"apiKey": "sk-ant", "baseUrl": fake.url + "/v1"}
    return {"apiKey": "sk-test", "baseUrl": fake.openai_url}


@dataclass
class Result:
    response: GatewayResponse
    body: bytes
    record: AuditRecord | None

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def headers(self) -> dict[str, str]:
        return self.response.headers

    def json(self) -> Any:
        return orjson.loads(self.body)


class Harness:
    def __init__(self, fake: FakeUpstream, *, tracer: Any = None) -> None:
        self.fake = fake
        self.config = MemoryConfig()
        self.sink = ListSink()
        self.sleeps: list[float] = []
        self.rates = ErrorRateCounters()
        self.breaker = CircuitBreaker()
        self.draws: list[float] = []

        async def fast_sleep(delay: float) -> None:
            self.sleeps.append(delay)

        def rand() -> float:
            return self.draws.pop(0) if self.draws else 0.0

        self.engine = Engine(EngineDeps(
            config=self.config, audit=self.sink, gate=AllowAllGate(), error_rates=self.rates,
            breaker=self.breaker, adapter_for=get_adapter, sleep=fast_sleep, rand=rand, tracer=tracer))
        self.config.keys[KEY_HASH] = ApiKeySnapshot(id="33333333-3333-3333-3333-333333333333", workspace_id=WS,
                                                    environment_id=ENV, name="test-key")
        self.config.environments[ENV] = EnvironmentSnapshot(id=ENV, workspace_id=WS, name="prod")
        self._n = 0

    def connection(self, provider: str, name: str | None = None, **over: Any) -> ConnectionSnapshot:
        self._n += 1
        cid = f"00000000-0000-0000-0000-{self._n:012d}"
        conn = ConnectionSnapshot.model_validate({
            "id": cid, "workspaceId": WS, "environmentId": ENV, "name": name or f"{provider}-{self._n}",
            "provider": provider, "config": over.pop("config", None) or connection_config(provider, self.fake),
            **over})
        self.config.connections[cid] = conn
        return conn

    def resource(self, name: str, model: dict[str, Any], **extra: Any) -> ResourceSnapshot:
        self._n += 1
        res = ResourceSnapshot.model_validate({
            "id": f"99999999-0000-0000-0000-{self._n:012d}", "workspaceId": WS, "environmentId": ENV,
            "name": name, "model": model, **extra})
        self.config.resources[(ENV, name)] = res
        return res

    def slot(self, provider: str, model: str, **extra: Any) -> dict[str, Any]:
        conn = self.connection(provider)
        return {"provider": provider, "model": model, "connectionId": conn.id, **extra}

    async def call(self, endpoint: str, body: Any, *, key: str | None = KEY, raw: bytes | None = None,
                   beta: str | None = None, source_ip: str | None = "10.0.0.1") -> Result:
        before = len(self.sink.records)
        data = raw if raw is not None else orjson.dumps(body)
        req = GatewayRequest(WS, ENV, endpoint, data, hashlib.sha256(key.encode()).hexdigest() if key else None,
                             source_ip, beta, 5 * 1024 * 1024)
        resp = await self.engine.complete(req)  # type: ignore[arg-type]
        out = resp.body
        if resp.stream is not None:
            out = b"".join([chunk async for chunk in resp.stream])
        await asyncio.sleep(0)
        record = self.sink.records[-1] if len(self.sink.records) > before else None
        return Result(resp, out, record)


def sse_events(raw: bytes) -> list[tuple[str | None, Any]]:
    """(event name, data) of an SSE body; `[DONE]` kept as the string."""
    out: list[tuple[str | None, Any]] = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        text = "\n".join(data)
        out.append((name, text if text == "[DONE]" else orjson.loads(text)))
    return out


def chat(model: str = "res", text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


# ---- auth and bad input ------------------------------------------------------------------------------

async def test_missing_and_unknown_keys_are_401_without_audit(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    r = await h.call("chat", chat(), key=None)
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_api_key" and r.record is None
    r = await h.call("anthropic", chat(), key="vmx-unknown")
    assert r.status == 401 and r.json()["type"] == "error"
    assert r.json()["error"]["type"] == "authentication_error"
    assert r.record is None


async def test_disabled_expired_and_foreign_keys(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    base = h.config.keys[KEY_HASH]
    h.config.keys[KEY_HASH] = base.model_copy(update={"enabled": False})
    r = await h.call("chat", chat())
    assert r.status == 401 and "disabled" in r.json()["error"]["message"]
    assert r.record is not None and r.record.status_code == 401 and r.record.api_key_name == "test-key"
    h.config.keys[KEY_HASH] = base.model_copy(update={"expires_at": time.time() - 1})
    r = await h.call("chat", chat())
    assert r.status == 401 and "expired" in r.json()["error"]["message"]
    h.config.keys[KEY_HASH] = base.model_copy(update={"environment_id": "other-env"})
    r = await h.call("chat", chat())
    assert r.status == 401 and r.record is None  # another environment's key does not resolve here


async def test_key_not_assigned_to_resource_is_403(h: Harness) -> None:
    res = h.resource("res", h.slot("openai", "gpt-4o"))
    h.resource("other", h.slot("openai", "gpt-4o"))
    h.config.keys[KEY_HASH] = h.config.keys[KEY_HASH].model_copy(update={"resources": [res.id]})
    assert (await h.call("chat", chat("res"))).status == 200
    r = await h.call("chat", chat("other"))
    assert r.status == 403 and r.json()["error"]["code"] == "api_key_resource_not_authorized"
    assert r.record is not None and r.record.status_code == 403 and r.record.resource_name == "other"


@pytest.mark.parametrize(("endpoint", "raw", "status", "needle"), [
    ("chat", b"{not json", 400, "not valid JSON"),
    ("chat", b"[1, 2]", 400, "JSON object"),
    ("chat", orjson.dumps({"messages": [{"role": "user", "content": "x"}]}), 400, "model"),
    ("chat", orjson.dumps({"model": 12, "messages": []}), 400, "model"),
    ("chat", orjson.dumps({"model": "res", "messages": "hello"}), 400, "messages"),
    ("chat", orjson.dumps({"model": "res", "messages": [], "stream": "yes"}), 400, "stream"),
    ("chat", orjson.dumps({"model": "res", "messages": [], "temperature": "hot"}), 400, "temperature"),
    ("responses", orjson.dumps({"model": "res", "input": 42}), 400, "input"),
    ("anthropic", orjson.dumps({"model": "res", "messages": [{"content": "x"}]}), 400, "role"),
    ("anthropic", orjson.dumps({"model": "res", "messages": [], "max_tokens": "many"}), 400, "max_tokens"),
    ("chat", orjson.dumps(chat("nope")), 404, "not found"),
    ("anthropic", orjson.dumps(chat("nope")), 404, "not found"),
    ("chat", orjson.dumps(chat(vmx={"secondaryModelIndex": 3})), 400, "secondaryModelIndex"),
    ("chat", orjson.dumps(chat(vmx={"timeoutMs": "soon"})), 400, "vmx.timeoutMs"),
    ("chat", orjson.dumps(chat(vmx={"resourceConfigOverrides": {"capacity": []}})), 400, "capacity"),
])
async def test_bad_input_answers_in_the_endpoint_shape(h: Harness, endpoint: str, raw: bytes, status: int,
                                                       needle: str) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    r = await h.call(endpoint, None, raw=raw)
    assert r.status == status, r.body
    body = r.json()
    if endpoint == "anthropic":
        assert body["type"] == "error" and needle in body["error"]["message"]
        assert body["error"]["type"] in ("invalid_request_error", "not_found_error")
    else:
        assert set(body["error"]) == {"message", "type", "param", "code"} and needle in body["error"]["message"]
    assert r.record is not None and r.record.status_code == status
    assert not h.fake.requests  # nothing reached the provider


async def test_body_over_the_limit_is_413(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    req = GatewayRequest(WS, ENV, "anthropic", None, KEY_HASH, None, None, 5 * 1024 * 1024)
    resp = await h.engine.complete(req)
    assert resp.status == 413 and orjson.loads(resp.body)["error"]["type"] == "request_too_large"


# ---- success: pass-through, headers, audit ---------------------------------------------------------------

async def test_chat_passthrough_headers_and_audit(h: Harness) -> None:
    res = h.resource("res", h.slot("openai", "gpt-4o"))
    r = await h.call("chat", chat(vmx={"correlationId": "corr-1", "metadata": {"team": "a"}}))
    assert r.status == 200
    body = r.json()
    assert body["choices"][0]["message"]["content"] == "Hello from gpt-4o"
    hd = r.headers
    conn_id = res.model.connection_id
    assert hd["x-vmx-resource"] == "res" and hd["x-vmx-provider"] == "openai" and hd["x-vmx-model"] == "gpt-4o"
    assert hd["x-vmx-connection-id"] == conn_id and hd["x-vmx-correlation-id"] == "corr-1"
    assert hd["x-vmx-event-count"] == "0" and float(hd["x-vmx-gate-duration-ms"]) >= 0
    sent = h.fake.last_request.json
    assert sent["model"] == "gpt-4o" and "vmx" not in sent
    rec = r.record
    assert rec is not None and rec.request_id == hd["x-vmx-request-id"]
    assert (rec.status_code, rec.provider, rec.model, rec.endpoint) == (200, "openai", "gpt-4o", "chat.completions")
    assert rec.resource_id == res.id and rec.connection_id == conn_id and rec.api_key_name == "test-key"
    assert rec.correlation_id == "corr-1" and rec.request_metadata == {"team": "a"} and rec.source_ip == "10.0.0.1"
    assert rec.prompt_tokens == body["usage"]["prompt_tokens"] and rec.completion_tokens == 3
    assert rec.total_tokens == body["usage"]["total_tokens"]
    assert rec.request_payload is not None and "vmx" not in rec.request_payload
    assert rec.response_payload == body and rec.duration_ms > 0 and rec.provider_duration_ms is not None
    assert h.rates.stats((res.id, conn_id, "gpt-4o"), 1, "any", time.time()).total_success == 1


async def test_passthrough_stream_keeps_bytes_and_hides_usage_chunk(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    r = await h.call("chat", chat(stream=True))
    events = sse_events(r.body)
    assert events[-1] == (None, "[DONE]")
    text = "".join(e[1]["choices"][0]["delta"].get("content") or "" for e in events[:-1])
    assert text == "Hello from gpt-4o"
    assert all(e[1]["choices"] for e in events[:-1])  # the usage chunk we asked for is not forwarded
    assert h.fake.last_request.json["stream_options"] == {"include_usage": True}
    rec = r.record
    assert rec is not None and rec.stream and rec.completion_tokens == 3 and rec.time_to_first_token_ms
    assert rec.response_payload["choices"][0]["message"]["content"] == "Hello from gpt-4o"
    r = await h.call("chat", chat(stream=True, stream_options={"include_usage": True}))
    usage_chunks = [e for e in sse_events(r.body)[:-1] if not e[1]["choices"]]
    assert len(usage_chunks) == 1 and usage_chunks[0][1]["usage"]["completion_tokens"] == 3


async def test_anthropic_passthrough_is_verbatim(h: Harness) -> None:
    h.resource("res", h.slot("anthropic", "claude-sonnet-4-5"))
    body = {"model": "res", "max_tokens": 50, "system": [{"type": "text", "text": "be brief",
                                                          "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": "hi"}], "thinking": {"type": "enabled", "budget_tokens": 1024},
            "tools": [{"type": "web_search_20250305", "name": "web_search"}]}
    r = await h.call("anthropic", body, beta="interleaved-thinking-2025-05-14")
    assert r.status == 200 and r.json()["type"] == "message"
    sent = h.fake.last_request
    assert sent.json == {**body, "model": "claude-sonnet-4-5"}
    assert sent.headers["anthropic-beta"] == "interleaved-thinking-2025-05-14"


async def test_anthropic_to_bedrock_invoke_keeps_the_body(h: Harness) -> None:
    h.resource("res", h.slot("bedrock-invoke", "anthropic.claude-3-haiku-20240307-v1:0"))
    body = {"model": "res", "max_tokens": 50, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}]}
    r = await h.call("anthropic", body)
    assert r.status == 200 and r.json()["content"][0]["text"].startswith("Hello from")
    sent = h.fake.last_request
    assert sent.route == "invoke" and sent.headers["authorization"].startswith("AWS4-HMAC-SHA256")
    assert sent.json == {"max_tokens": 50, "messages": body["messages"], "anthropic_version": "bedrock-2023-05-31"}
    r = await h.call("anthropic", {**body, "stream": True})
    names = [n for n, _ in sse_events(r.body)]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert r.record is not None and r.record.completion_tokens > 0 and r.record.prompt_tokens > 0


async def test_list_models_and_count_tokens(h: Harness) -> None:
    h.resource("res", h.slot("anthropic", "claude-sonnet-4-5"))
    h.resource("gpt", h.slot("openai", "gpt-4o"))
    req = GatewayRequest(WS, ENV, "chat", b"", KEY_HASH)
    listed = orjson.loads((await catalog.list_models(h.engine, req)).body)
    assert [m["id"] for m in listed["data"]] == ["gpt", "res"] and listed["object"] == "list"
    body = orjson.dumps({"model": "res", "messages": [{"role": "user", "content": "count me please"}],
                         "max_tokens": 10})
    resp = await catalog.count_tokens(h.engine, GatewayRequest(WS, ENV, "anthropic", body, KEY_HASH))
    assert resp.status == 200 and orjson.loads(resp.body)["input_tokens"] > 0
    assert h.fake.last_request.route == "count_tokens" and "max_tokens" not in h.fake.last_request.json
    body = orjson.dumps({"model": "gpt", "messages": [{"role": "user", "content": "x" * 400}]})
    resp = await catalog.count_tokens(h.engine, GatewayRequest(WS, ENV, "anthropic", body, KEY_HASH))
    assert orjson.loads(resp.body)["input_tokens"] >= 60  # estimated (400 letters / 6): not an Anthropic model


# ---- spans ---------------------------------------------------------------------------------------------------

async def test_spans_carry_genai_attributes(fake_upstream: FakeUpstream) -> None:
    fake_upstream.reset()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    h = Harness(fake_upstream, tracer=provider.get_tracer("test"))
    h.resource("res", h.slot("openai", "gpt-4o"), routing={"enabled": True, "conditions": [
        {"if": [{"field": "stream", "operator": "equals", "value": True}], "then": h.slot("openai", "gpt-4o-mini")}]})
    assert (await h.call("chat", chat())).status == 200
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert {"vmx.completion", "vmx.routing", "vmx.gate", "vmx.provider_call"} <= set(spans)
    call = spans["vmx.provider_call"].attributes
    assert call["gen_ai.system"] == "openai" and call["gen_ai.request.model"] == "gpt-4o"
    assert call["gen_ai.usage.output_tokens"] == 3 and call["gen_ai.response.model"] == "gpt-4o"
    top = spans["vmx.completion"]
    assert top.attributes["gen_ai.usage.input_tokens"] > 0 and top.attributes["http.response.status_code"] == 200
    assert spans["vmx.provider_call"].parent.span_id == top.context.span_id
    assert spans["vmx.routing"].parent.span_id == top.context.span_id
    assert spans["vmx.gate"].parent.span_id == top.context.span_id


async def test_client_leaving_a_stream_is_audited_as_499(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"))
    h.fake.script("gpt-4o", Behaviour(text="a b c d e f g h i j", chunk_delay_s=0.05))
    resp = await h.engine.complete(GatewayRequest(WS, ENV, "chat", orjson.dumps(chat(stream=True)), KEY_HASH))
    assert resp.stream is not None
    first = await anext(resp.stream)
    assert first.startswith(b"data: ")
    await resp.stream.aclose()  # what the server does when the client disconnects
    rec = h.sink.records[-1]
    assert rec.status_code == 499 and rec.error_type == "client_closed" and rec.stream


async def test_upstream_client_error_passes_through(h: Harness) -> None:
    h.resource("res", h.slot("openai", "gpt-4o"), useFallback=True, fallbackModels=[h.slot("openai", "gpt-4o-mini")])
    h.fake.script("gpt-4o", Behaviour(status=400, error_message="bad temperature"))
    r = await h.call("chat", chat())
    assert r.status == 400 and "bad temperature" in r.json()["error"]["message"]
    assert not h.fake.requests_for("gpt-4o-mini")  # the client's own 4xx is not worth a fallback
