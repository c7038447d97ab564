"""A real OTLP/HTTP receiver on a local port: decodes the protobuf of traces and metrics
(`opentelemetry-proto`) the way a collector would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

MESSAGES = {"/v1/traces": ExportTraceServiceRequest, "/v1/metrics": ExportMetricsServiceRequest}


def attributes(kvs: Any) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in kvs}


def _attr(kvs: list[KeyValue], key: str) -> Any:
    return attributes(kvs).get(key)


class Collector(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.paths: list[str] = []

    def spans(self) -> list[dict[str, Any]]:
        """Every span received: service, name, ids (hex), parent id and attributes."""
        out = []
        for req in self.traces:
            for rs in req.resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        out.append({"resource": resource, "name": span.name, "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(), "parent": span.parent_span_id.hex(),
                                    "attributes": attributes(span.attributes)})
        return out

    def metric_points(self) -> dict[str, list[dict[str, Any]]]:
        """Metric name -> its data points (attributes plus value/count/sum) of the LAST export that had it."""
        out: dict[str, list[dict[str, Any]]] = {}
        for req in self.metrics:
            for rm in req.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        points = []
                        for p in getattr(m, kind).data_points:
                            point = {"attributes": attributes(p.attributes), "kind": kind}
                            if kind == "histogram":
                                point.update(count=p.count, sum=p.sum, buckets=list(p.bucket_counts))
                            else:
                                point["value"] = p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
                            points.append(point)
                        out[m.name] = points
        return out

    def resources(self) -> list[dict[str, Any]]:
        return [attributes(rm.resource.attributes) for req in self.metrics for rm in req.resource_metrics]


class _Receiver(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["content-length"]))
        message = MESSAGES[self.path]()
        message.ParseFromString(body)
        (self.server.traces if self.path == "/v1/traces" else self.server.metrics).append(message)
        self.server.paths.append(self.path)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def grpc_collector() -> Iterator[tuple[int, list[Any]]]:
    """An OTLP/gRPC receiver on a local port: (port, the export requests received, traces and metrics)."""
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    received: list[Any] = []

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802 - the generated API
            received.append(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
        def Export(self, request: Any, context: Any) -> Any:  # noqa: N802
            received.append(request)
            return metrics_service_pb2.ExportMetricsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, received
    finally:
        server.stop(None)
