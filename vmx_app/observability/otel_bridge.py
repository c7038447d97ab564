"""The pre-aggregated request metrics (`meters`) as OpenTelemetry metrics.

Counters and gauges are observable instruments of the OTel metrics API whose callbacks read the sums.
The three histograms (GenAI semantic conventions) have no observable form in the API, so the readers
below add them, already aggregated, to what the SDK collected, before it is exported (OTLP) or
rendered (Prometheus). Both readers ask for cumulative temporality, which is what the sums are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    Metric,
    MetricsData,
    PeriodicExportingMetricReader,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.metrics.export import Histogram as HistogramData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from vmx_app.observability.meters import Histogram, RequestMeters, request_attributes

SCOPE = InstrumentationScope("vmx.gateway")
GaugeFn = Callable[[], Iterable[tuple[float, dict[str, Any]]]]


class Bridge:
    """What the readers need: the sums, the process start (cumulative start time) and the resource."""

    def __init__(self, meters: RequestMeters, resource: Resource) -> None:
        self.meters = meters
        self.resource = resource
        self.start_ns = time.time_ns()

    def histograms(self) -> list[Metric]:
        m, now = self.meters, time.time_ns()
        return [
            self._metric("gen_ai.client.operation.duration", "s", "Completion duration as the client sees it",
                         [(request_attributes(k), h) for k, h in list(m.duration.items())], now),
            self._metric("gen_ai.server.time_to_first_token", "s", "Time to the first streamed chunk",
                         [(request_attributes(k), h) for k, h in list(m.ttft.items())], now),
            self._metric("gen_ai.client.token.usage", "{token}", "Tokens per completion, by gen_ai.token.type",
                         [({**request_attributes(k), "gen_ai.token.type": kind}, h)
                          for (k, kind), h in list(m.tokens.items())], now),
        ]

    def _metric(self, name: str, unit: str, description: str, series: list[tuple[dict[str, Any], Histogram]],
                now: int) -> Metric:
        points = [HistogramDataPoint(attributes=attrs, start_time_unix_nano=self.start_ns, time_unix_nano=now,
                                     count=h.count, sum=h.total, bucket_counts=list(h.buckets),
                                     explicit_bounds=list(h.bounds), min=h.low, max=h.high)
                  for attrs, h in series if h.count]
        return Metric(name=name, description=description, unit=unit,
                      data=HistogramData(data_points=points, aggregation_temporality=AggregationTemporality.CUMULATIVE))

    def merged(self, data: MetricsData | None) -> MetricsData:
        extra = [m for m in self.histograms() if m.data.data_points]
        if not extra:
            return data if data is not None else MetricsData(resource_metrics=[])
        ours = ScopeMetrics(scope=SCOPE, metrics=extra, schema_url="")
        if data is None or not data.resource_metrics:
            return MetricsData(resource_metrics=[ResourceMetrics(resource=self.resource, scope_metrics=[ours],
                                                                 schema_url="")])
        first, *rest = data.resource_metrics
        # Into the SDK's own scope when it has one: the OTLP encoder keeps one ScopeMetrics per scope.
        scopes = [ScopeMetrics(scope=sm.scope, metrics=[*sm.metrics, *extra], schema_url=sm.schema_url)
                  if sm.scope.name == SCOPE.name else sm for sm in first.scope_metrics]
        if not any(sm.scope.name == SCOPE.name for sm in first.scope_metrics):
            scopes.append(ours)
        first = ResourceMetrics(resource=first.resource, scope_metrics=scopes, schema_url=first.schema_url)
        return MetricsData(resource_metrics=[first, *rest])


class _WithHistograms:
    """Mixin for a MetricReader: the bridge's histograms join every collection."""

    bridge: Bridge

    def _receive_metrics(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> None:
        super()._receive_metrics(self.bridge.merged(metrics_data), timeout_millis, **kwargs)  # type: ignore[misc]


class OtlpMetricReader(_WithHistograms, PeriodicExportingMetricReader):
    def __init__(self, bridge: Bridge, exporter: Any, interval_ms: int) -> None:
        self.bridge = bridge
        super().__init__(exporter, export_interval_millis=interval_ms)


class PrometheusReader(_WithHistograms, PrometheusMetricReader):
    def __init__(self, bridge: Bridge, registry: Any) -> None:
        self.bridge = bridge
        super().__init__(registry=registry)


def _observations(table: dict[Any, Any], attrs: Callable[[Any], dict[str, Any]]) -> list[Observation]:
    return [Observation(value, attrs(key)) for key, value in list(table.items())]


def register_counters(meter: Meter, meters: RequestMeters) -> None:
    """Observable counters over the sums."""

    def counter(name: str, unit: str, description: str, table: Callable[[], list[Observation]]) -> None:
        meter.create_observable_counter(name, callbacks=[lambda _opts: table()], unit=unit,
                                        description=description)

    counter("vmx.requests", "{request}", "Completion requests by resource, provider, model and status",
            lambda: _observations(meters.requests, request_attributes))
    counter("vmx.errors", "{request}", "Failed completion requests by error.type",
            lambda: _observations(meters.errors, lambda k: {**request_attributes(k[0]), "error.type": k[1]}))
    counter("vmx.cost.usd", "{USD}", "Cost of completions from the pricing catalog, in US dollars",
            lambda: _observations(meters.cost, request_attributes))
    counter("vmx.fallbacks", "{fallback}", "Legs given up for the next model, by failure reason",
            lambda: _observations(meters.fallbacks, lambda k: {"vmx.resource": k[0], "gen_ai.system": k[1],
                                                               "gen_ai.request.model": k[2], "vmx.reason": k[3]}))
    counter("vmx.gate.denials", "{request}", "Legs the capacity gate refused",
            lambda: _observations(meters.gate_denials, lambda k: {"vmx.resource": k[0],
                                                                  "gen_ai.request.model": k[1]}))


def register_gauge(meter: Meter, name: str, unit: str, description: str, fn: GaugeFn) -> None:
    def callback(_opts: CallbackOptions) -> list[Observation]:
        return [Observation(value, attrs) for value, attrs in fn()]

    meter.create_observable_gauge(name, callbacks=[callback], unit=unit, description=description)
