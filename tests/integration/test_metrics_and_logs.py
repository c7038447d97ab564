"""METRICS_PROMETHEUS: `GET /metrics` in the Prometheus text format (parsed with prometheus_client's own
parser), behind METRICS_BEARER_TOKEN; the process's JSON log lines carry the request's ids and never a
secret or a message content (canaries grepped in a real run's log, at DEBUG); OTLP over gRPC."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import Env, make_env
from tests.support.otlp import collector, grpc_collector
from tests.support.servers import free_port, gateway_command, running

TOKEN = "scrape-" + secrets.token_hex(8)
PROMPT = "canary-prompt-" + secrets.token_hex(6)
PROVIDER_KEY = "sk-canary-provider-" + secrets.token_hex(6)


@dataclass
class Run:
    url: str
    env: Env
    log: Path
    request_ids: list[str]
    scrapes: dict[str, httpx.Response]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, admin_client: httpx.Client, fake_upstream: FakeUpstream,
        app_url: str) -> Iterator[Run]:
    env = make_env(app_url, admin_client, fake_upstream, "prom")
    conn = env.connection("canary-conn", "openai", {"apiKey": PROVIDER_KEY, "baseUrl": fake_upstream.openai_url})
    env.resource({"provider": "openai", "model": "gpt-4o", "connectionId": conn}, name="scraped")
    port, log = free_port(), tmp_path_factory.mktemp("prom") / "gw.log"
    url = f"http://127.0.0.1:{port}"
    ids: list[str] = []
    scrapes: dict[str, httpx.Response] = {}
    with collector() as otlp:
        proc_env = dict(os.environ, METRICS_PROMETHEUS="true", METRICS_BEARER_TOKEN=TOKEN, LOG_LEVEL="DEBUG",
                        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{otlp.server_port}")
        with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=log):
            completions = f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions"
            for stream in (False, True):
                r = httpx.post(completions, headers=env.headers(), timeout=30,
                               json={"model": "scraped", "stream": stream,
                                     "messages": [{"role": "user", "content": PROMPT}]})
                assert r.status_code == 200, r.text
                ids.append(r.headers["x-vmx-request-id"])
            bad = httpx.post(completions, headers=env.headers(), timeout=30,  # an error with the prompt in it
                             json={"model": "missing-resource", "messages": [{"role": "user", "content": PROMPT}]})
            assert bad.status_code == 404
            scrapes["anonymous"] = httpx.get(f"{url}/metrics")
            scrapes["wrong"] = httpx.get(f"{url}/metrics", headers={"authorization": "Bearer nope"})
            scrapes["ok"] = httpx.get(f"{url}/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    yield Run(url, env, log, ids, scrapes)


def test_metrics_endpoint_wants_the_token(run: Run) -> None:
    assert run.scrapes["anonymous"].status_code == 401 and run.scrapes["wrong"].status_code == 401
    assert run.scrapes["ok"].status_code == 200
    assert run.scrapes["ok"].headers["content-type"].startswith("text/plain")


def test_metrics_parse_as_prometheus(run: Run) -> None:
    families = {f.name: f for f in text_string_to_metric_families(run.scrapes["ok"].text)}

    def samples(family: str, suffix: str = "") -> list:
        return [s for s in families[family].samples if s.name == family + suffix
                and s.labels.get("vmx_resource") == "scraped"]

    assert families["vmx_requests"].type == "counter"
    assert sum(s.value for s in samples("vmx_requests", "_total")) == 2
    label = samples("vmx_requests", "_total")[0].labels
    assert label["gen_ai_request_model"] == "gpt-4o" and label["http_response_status_code"] == "200"
    assert families["gen_ai_client_operation_duration_seconds"].type == "histogram"
    assert sum(s.value for s in samples("gen_ai_client_operation_duration_seconds", "_count")) == 2
    assert families["gen_ai_client_token_usage"].type == "histogram"
    assert sum(s.value for s in samples("gen_ai_client_token_usage", "_count")) == 4  # input + output, twice
    assert sum(s.value for s in samples("gen_ai_server_time_to_first_token_seconds", "_count")) == 1
    for gauge in ("vmx_audit_queue_depth", "vmx_config_cache_hit_ratio", "vmx_upstream_connections"):
        assert families[gauge].type == "gauge", gauge


def test_log_lines_are_json_with_ids_and_no_secrets(run: Run) -> None:
    text = run.log.read_text()
    for canary in (PROMPT, PROVIDER_KEY, run.env.key, TOKEN):
        assert canary not in text
    lines = [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = {line["request_id"]: line for line in lines if line["logger"] == "vmx.access"}
    for rid in run.request_ids:
        line = access[rid]
        assert line["workspace_id"] == run.env.ws and line["environment_id"] == run.env.env
        assert line["resource"] == "scraped" and line["status"] == 200 and line["level"] == "INFO"
        assert len(line["trace_id"]) == 32 and len(line["span_id"]) == 16
    assert any(line["status"] == 404 and line["error_type"] for line in access.values())


def test_otlp_over_grpc(tmp_path: Path, run: Run) -> None:
    with grpc_collector() as (grpc_port, received):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc_env = dict(os.environ, OTEL_EXPORTER_OTLP_PROTOCOL="grpc", OTEL_SERVICE_NAME="vmx-grpc",
                        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{grpc_port}")
        with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log"):
            r = httpx.post(f"{url}/v1/completion/{run.env.ws}/{run.env.env}/chat/completions",
                           headers=run.env.headers(), timeout=30,
                           json={"model": "scraped", "messages": [{"role": "user", "content": "hi"}]})
            assert r.status_code == 200
    spans = [s.name for req in received if isinstance(req, ExportTraceServiceRequest)
             for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    metrics = [m.name for req in received if isinstance(req, ExportMetricsServiceRequest)
               for rm in req.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    assert "vmx.completion" in spans and "vmx.provider_call" in spans
    assert "vmx.requests" in metrics and "gen_ai.client.operation.duration" in metrics
