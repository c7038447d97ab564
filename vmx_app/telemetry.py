"""OpenTelemetry from the standard OTEL_* variables: traces and metrics over OTLP (http/protobuf or grpc),
metrics also for Prometheus (`GET /metrics`). Nothing is installed when nothing exports, so the hot path
then pays only for a no-op tracer and a `None` check."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from vmx_app.observability.meters import RequestMeters
from vmx_app.observability.otel_bridge import (
    Bridge,
    GaugeFn,
    OtlpMetricReader,
    PrometheusReader,
    register_counters,
    register_gauge,
)
from vmx_app.settings import Settings, get_settings

log = logging.getLogger("vmx.telemetry")


@dataclass
class Telemetry:
    tracer_provider: TracerProvider | None = None
    meter_provider: MeterProvider | None = None
    meters: RequestMeters | None = None
    prometheus_registry: Any = None  # prometheus_client.CollectorRegistry behind GET /metrics
    gauges: dict[str, tuple[str, str, GaugeFn]] = field(default_factory=dict)


_state = Telemetry()


def parse_resource_attributes(value: str) -> dict[str, str]:
    """OTEL_RESOURCE_ATTRIBUTES: `key=value,key=value` (values percent-decoded, as the spec says)."""
    from urllib.parse import unquote

    out: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if sep and key.strip():
            out[key.strip()] = unquote(val.strip())
    return out


def _resource(settings: Settings) -> Resource:
    attributes: dict[str, Any] = parse_resource_attributes(settings.otel_resource_attributes)
    attributes["service.name"] = settings.otel_service_name  # OTEL_SERVICE_NAME wins, as in the spec
    return Resource.create(attributes)


def _signal_endpoint(settings: Settings, signal: str) -> str | None:
    """OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL; over HTTP each signal has its path."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if not endpoint or settings.otel_exporter_otlp_protocol == "grpc":
        return endpoint
    base = endpoint.rstrip("/")
    return base if base.endswith(f"/v1/{signal}") else f"{base}/v1/{signal}"


def _span_exporter(settings: Settings) -> SpanExporter:
    endpoint = _signal_endpoint(settings, "traces")
    if settings.otel_exporter_otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

        return GrpcSpanExporter(endpoint=endpoint, insecure=bool(endpoint and endpoint.startswith("http://")))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


def _metric_exporter(settings: Settings) -> Any:
    endpoint = _signal_endpoint(settings, "metrics")
    if settings.otel_exporter_otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcExporter

        return GrpcExporter(endpoint=endpoint, insecure=bool(endpoint and endpoint.startswith("http://")))
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=endpoint)


def configure_telemetry(span_exporter: SpanExporter | None = None) -> None:
    """Install the tracer and meter providers the settings ask for; idempotent (Reflex may call twice)."""
    settings = get_settings()
    if settings.otel_sdk_disabled or _state.tracer_provider is not None or _state.meter_provider is not None:
        return
    resource = _resource(settings)
    if settings.otel_exporting or span_exporter is not None:
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(span_exporter or _span_exporter(settings)))
        trace.set_tracer_provider(provider)
        _state.tracer_provider = provider
    if not settings.metrics_enabled:
        return
    meters = RequestMeters()
    bridge = Bridge(meters, resource)
    readers: list[Any] = []
    if settings.otel_exporting:
        readers.append(OtlpMetricReader(bridge, _metric_exporter(settings), settings.otel_metric_export_interval))
    if settings.metrics_prometheus:
        from prometheus_client import CollectorRegistry

        _state.prometheus_registry = CollectorRegistry(auto_describe=True)
        readers.append(PrometheusReader(bridge, _state.prometheus_registry))
    _state.meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    _state.meters = meters
    meter = _state.meter_provider.get_meter("vmx.gateway")
    register_counters(meter, meters)
    for name, (unit, description, fn) in _state.gauges.items():
        register_gauge(meter, name, unit, description, fn)


def add_gauge(name: str, unit: str, description: str, fn: GaugeFn) -> None:
    """A runtime gauge (queue depth, pool use, ...): `fn` returns (value, attributes) pairs when collected."""
    if name in _state.gauges:
        return
    _state.gauges[name] = (unit, description, fn)
    if _state.meter_provider is not None:
        register_gauge(_state.meter_provider.get_meter("vmx.gateway"), name, unit, description, fn)


def request_meters() -> RequestMeters | None:
    """The sums the gateway adds to, or None when no metric leaves the process (nothing to pay then)."""
    return _state.meters


def prometheus_registry() -> Any:
    return _state.prometheus_registry


def shutdown_telemetry() -> None:
    """Export what is still batched (called at shutdown: no span or last sum is lost on SIGTERM)."""
    global _state
    if _state.tracer_provider is not None:
        _state.tracer_provider.shutdown()
    if _state.meter_provider is not None:
        _state.meter_provider.shutdown()
    _state = Telemetry(gauges=_state.gauges)


def tracer() -> trace.Tracer:
    return trace.get_tracer("vmx.gateway")
