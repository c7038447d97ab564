"""The standard OTEL_* variables: what exports, where, with which resource; OTEL_SDK_DISABLED wins."""

from __future__ import annotations

from vmx_app.settings import Settings
from vmx_app.telemetry import _resource, _signal_endpoint, parse_resource_attributes


def test_what_exports() -> None:
    assert not Settings().otel_exporting and not Settings().metrics_enabled
    assert Settings(otel_exporter_otlp_endpoint="http://c:4318").otel_exporting
    assert Settings(otel_enabled=True).otel_exporting  # the shortcut
    assert Settings(metrics_prometheus=True).metrics_enabled and not Settings(metrics_prometheus=True).otel_exporting
    off = Settings(otel_sdk_disabled=True, otel_enabled=True, otel_exporter_otlp_endpoint="http://c:4318",
                   metrics_prometheus=True)
    assert not off.otel_exporting and not off.metrics_enabled


def test_endpoints_per_protocol() -> None:
    http = Settings(otel_exporter_otlp_endpoint="http://c:4318/")
    assert _signal_endpoint(http, "traces") == "http://c:4318/v1/traces"
    assert _signal_endpoint(http, "metrics") == "http://c:4318/v1/metrics"
    grpc = Settings(otel_exporter_otlp_endpoint="http://c:4317", otel_exporter_otlp_protocol="GRPC")
    assert grpc.otel_exporter_otlp_protocol == "grpc" and _signal_endpoint(grpc, "traces") == "http://c:4317"


def test_resource_attributes() -> None:
    assert parse_resource_attributes("a=1, team=ai%20ops,broken,=x") == {"a": "1", "team": "ai ops"}
    resource = _resource(Settings(otel_service_name="gw", otel_resource_attributes="service.name=ignored,env=ci"))
    assert resource.attributes["service.name"] == "gw" and resource.attributes["env"] == "ci"
