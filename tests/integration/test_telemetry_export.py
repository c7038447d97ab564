"""OTEL_* variables: a gateway process exports its spans and metrics over OTLP/HTTP to the configured
collector (here a local receiver that decodes the protobuf): one span per completion with children for
auth, routing, gate, each provider attempt and the stream, GenAI attributes, the client's W3C trace
continued and passed on to the provider; the GenAI histograms and the request counters; all flushed
when the process is stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.upstream import Behaviour, FakeUpstream
from tests.sdk.env import make_env
from tests.support.otlp import Collector, collector
from tests.support.servers import free_port, gateway_command, running

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = "00f067aa0ba902b7"


@pytest.fixture
def otlp() -> Iterator[Collector]:
    with collector() as server:
        yield server


def test_one_completion_as_spans_and_metrics(otlp: Collector, tmp_path: Path, admin_client: httpx.Client,
                                             fake_upstream: FakeUpstream, app_url: str) -> None:
    env = make_env(app_url, admin_client, fake_upstream, "otel")  # config in the shared database
    # The first model fails once (a fallback); routing is on, so its span shows too.
    env.resource(env.slot("openai", "gpt-4o-mini"), name="traced", useFallback=True,
                 fallbackModels=[env.slot("openai")],
                 routing={"enabled": True, "conditions": [
                     {"description": "never", "then": env.slot("openai"),
                      "if": [{"field": "messagesCount", "operator": "greaterThanOrEqual", "value": 1000}]}]})
    fake_upstream.script("gpt-4o-mini", Behaviour(status=500))
    port = free_port()
    proc_env = dict(os.environ, OTEL_SERVICE_NAME="vmx-otel-test",
                    OTEL_RESOURCE_ATTRIBUTES="deployment.environment=ci,team=ai%20ops",
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{otlp.server_port}",
                    OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")
    url = f"http://127.0.0.1:{port}"
    completions = f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions"
    traceparent = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log"):
        r = httpx.post(completions, headers={**env.headers(), "traceparent": traceparent}, timeout=30,
                       json={"model": "traced", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 200, r.text
        with httpx.stream("POST", completions, headers=env.headers(), timeout=30,
                          json={"model": "traced", "stream": True,
                                "messages": [{"role": "user", "content": "hi"}]}) as s:
            assert s.status_code == 200 and b"[DONE]" in s.read()
        upstream = fake_upstream.requests_for("gpt-4o")  # the stream found gpt-4o-mini answering again
    # Stopped with SIGTERM: the span batch and the last metrics were flushed on the way out.
    assert set(otlp.paths) == {"/v1/traces", "/v1/metrics"}
    spans = otlp.spans()
    assert {s["resource"]["service.name"] for s in spans} == {"vmx-otel-test"}
    assert spans[0]["resource"]["deployment.environment"] == "ci" and spans[0]["resource"]["team"] == "ai ops"
    roots = [s for s in spans if s["name"] == "vmx.completion"]
    first = next(s for s in roots if s["attributes"]["vmx.request.id"] == r.headers["x-vmx-request-id"])
    # The client's trace is continued: same trace id, our request span's parent is the client's span.
    assert first["trace_id"] == CLIENT_TRACE and first["parent"] == CLIENT_PARENT
    attrs = first["attributes"]
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["http.response.status_code"] == 200
    assert attrs["gen_ai.system"] == "openai" and attrs["gen_ai.response.model"] == "gpt-4o"
    children = [s for s in spans if s["parent"] == first["span_id"]]
    names = sorted(s["name"] for s in children)
    assert names == ["vmx.auth", "vmx.gate", "vmx.gate", "vmx.provider_call", "vmx.provider_call", "vmx.routing"]
    calls = [s["attributes"] for s in children if s["name"] == "vmx.provider_call"]
    assert {c["gen_ai.request.model"] for c in calls} == {"gpt-4o-mini", "gpt-4o"}
    ok_call = next(s for s in children if s["name"] == "vmx.provider_call"
                   and s["attributes"]["gen_ai.request.model"] == "gpt-4o")
    assert ok_call["attributes"]["gen_ai.usage.output_tokens"] == 3
    # The provider got our provider-call span as its parent, in the client's trace.
    sent = upstream[-1].headers["traceparent"]
    assert sent == f"00-{CLIENT_TRACE}-{ok_call['span_id']}-01"
    streamed = next(s for s in roots if s is not first)
    assert "vmx.stream" in {s["name"] for s in spans if s["parent"] == streamed["span_id"]}

    metrics = otlp.metric_points()
    assert otlp.resources()[0]["service.name"] == "vmx-otel-test"
    def traced(name: str) -> list[dict]:
        return [p for p in metrics[name] if p["attributes"].get("vmx.resource") == "traced"]

    requests = {p["attributes"]["gen_ai.request.model"]: p for p in traced("vmx.requests")}
    assert {m: p["value"] for m, p in requests.items()} == {"gpt-4o": 1, "gpt-4o-mini": 1}
    assert requests["gpt-4o"]["attributes"]["http.response.status_code"] == 200
    assert requests["gpt-4o"]["attributes"]["gen_ai.system"] == "openai"
    durations = traced("gen_ai.client.operation.duration")
    assert sum(p["count"] for p in durations) == 2 and sum(sum(p["buckets"]) for p in durations) == 2
    assert all(p["sum"] > 0 for p in durations)
    output = [p for p in traced("gen_ai.client.token.usage") if p["attributes"]["gen_ai.token.type"] == "output"]
    assert sum(p["count"] for p in output) == 2 and sum(p["sum"] for p in output) == 6
    ttft = traced("gen_ai.server.time_to_first_token")
    assert [p["count"] for p in ttft] == [1] and ttft[0]["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"
    fallbacks = traced("vmx.fallbacks")
    assert [(p["value"], p["attributes"]["vmx.reason"]) for p in fallbacks] == [(1, "server_error")]
    assert metrics["vmx.audit.queue.depth"][0]["value"] >= 0
    assert 0 < metrics["vmx.config_cache.hit_ratio"][0]["value"] <= 1
    assert {p["attributes"]["vmx.pool.state"] for p in metrics["vmx.upstream.connections"]} == {"in_use", "open_pools"}
