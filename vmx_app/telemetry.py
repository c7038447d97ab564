"""OpenTelemetry: a tracer for the gateway, exporting only when OTEL_ENABLED is set."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from vmx_app.settings import get_settings

_provider: TracerProvider | None = None


def configure_tracing(exporter: SpanExporter | None = None) -> None:
    """Install a TracerProvider. Without OTEL_ENABLED (and no exporter given) the API's no-op tracer
    stays in place, so spans cost next to nothing on the hot path."""
    global _provider
    settings = get_settings()
    if _provider is not None or (not settings.otel_enabled and exporter is None):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_exporter_otlp_endpoint
        # OTEL_EXPORTER_OTLP_ENDPOINT is the collector's base URL (the spec's rule); traces go to /v1/traces.
        if endpoint and not endpoint.rstrip("/").endswith("/v1/traces"):
            endpoint = endpoint.rstrip("/") + "/v1/traces"
        exporter = OTLPSpanExporter(endpoint=endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider


def shutdown_tracing() -> None:
    """Export what is still batched (called at shutdown: no span is lost on SIGTERM)."""
    if _provider is not None:
        _provider.shutdown()


def tracer() -> trace.Tracer:
    return trace.get_tracer("vmx.gateway")
