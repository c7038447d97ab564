"""OpenTelemetry: a tracer for the gateway, exporting only when OTEL_ENABLED is set."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from vmx_app.settings import get_settings

_configured = False


def configure_tracing(exporter: SpanExporter | None = None) -> None:
    """Install a TracerProvider. Without OTEL_ENABLED (and no exporter given) the API's no-op tracer
    stays in place, so spans cost next to nothing on the hot path."""
    global _configured
    settings = get_settings()
    if _configured or (not settings.otel_enabled and exporter is None):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # optional extra

        exporter = OTLPSpanExporter(endpoint=settings.otel_exporter_otlp_endpoint)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def tracer() -> trace.Tracer:
    return trace.get_tracer("vmx.gateway")
