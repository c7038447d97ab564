"""OTEL_ENABLED: a gateway process exports its spans over OTLP/HTTP to the configured collector (here a
local receiver that decodes the protobuf), with the GenAI semantic-convention attributes, and flushes
what it still holds when it is stopped."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.fakes.upstream import FakeUpstream
from tests.sdk.env import make_env
from tests.support.servers import free_port, gateway_command, running


class _Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.requests: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []

    def spans(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(service.name, span name, attributes) of everything received."""
        out = []
        for req in self.requests:
            for rs in req.resource_spans:
                service = next(a.value.string_value for a in rs.resource.attributes if a.key == "service.name")
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        attrs = {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}
                        out.append((service, span.name, attrs))
        return out


class _Receiver(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.requests.append(request)
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_spans_reach_the_collector_with_gen_ai_attributes(collector: _Collector, tmp_path: Path,
                                                          admin_client: httpx.Client,
                                                          fake_upstream: FakeUpstream, app_url: str) -> None:
    env = make_env(app_url, admin_client, fake_upstream, "otel")  # config in the shared database
    env.resource(env.slot("openai"), name="traced")
    port = free_port()
    proc_env = dict(os.environ, OTEL_ENABLED="true", OTEL_SERVICE_NAME="vmx-otel-test",
                    OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_port}")
    url = f"http://127.0.0.1:{port}"
    with running(gateway_command(port), ready_url=f"{url}/readyz", env=proc_env, log=tmp_path / "gw.log"):
        r = httpx.post(f"{url}/v1/completion/{env.ws}/{env.env}/chat/completions", headers=env.headers(),
                       json={"model": "traced", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
        assert r.status_code == 200, r.text
    # Stopped with SIGTERM: the batch processor's spans were flushed on the way out.
    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    spans = collector.spans()
    assert {s[0] for s in spans} == {"vmx-otel-test"}
    by_name = {name: attrs for _, name, attrs in spans}
    request = by_name["vmx.completion"]
    assert request["vmx.request.id"] == r.headers["x-vmx-request-id"]
    assert request["gen_ai.usage.input_tokens"] > 0 and request["http.response.status_code"] == 200
    calls = [attrs for _, name, attrs in spans if attrs.get("gen_ai.system")]
    assert calls and calls[0]["gen_ai.system"] == "openai" and calls[0]["gen_ai.request.model"] == "gpt-4o"
    assert calls[0]["gen_ai.usage.output_tokens"] == 3
