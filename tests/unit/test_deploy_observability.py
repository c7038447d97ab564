"""deploy/observability and docker-compose.yml: the Grafana dashboard asks only for metrics the app really
exports (names taken from a real Prometheus rendering of every instrument), and shows each of them; the
compose file's observability profile mounts config files that exist and parse."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vmx_app import telemetry
from vmx_app.gateway.audit import AuditRecord
from vmx_app.services import config_cache
from vmx_app.services.gateway_runtime import get_engine, set_engine
from vmx_app.services.runtime_gauges import register_runtime_gauges
from vmx_app.settings import reset_settings

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "observability" / "grafana" / "dashboards" / "vmx.json"


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[str]]]:
    """family name -> its sample names, with every instrument fed once."""
    for name in ("OTEL_ENABLED", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("METRICS_PROMETHEUS", "true")
    reset_settings()
    register_runtime_gauges()
    telemetry.configure_telemetry()
    try:
        meters = telemetry.request_meters()
        assert meters is not None
        meters.record(AuditRecord(
            request_id="r", created_at=datetime.now(UTC), workspace_id="w", environment_id="e",
            endpoint="chat.completions", status_code=429, error_type="rate_limit", provider="openai", model="m",
            resource_name="res", prompt_tokens=3, completion_tokens=4, duration_ms=12.0, time_to_first_token_ms=3.0,
            cost={"total": 0.1, "priced": True},
            events=[{"type": "fallback", "provider": "openai", "model": "m", "failureReason": "capacity_denied"}]))
        breaker = get_engine().deps.breaker
        for _ in range(breaker.failure_threshold):
            breaker.record_failure(("conn", "m"), 0.0)
        config_cache.get_cache().lookups += 1
        text = generate_latest(telemetry.prometheus_registry()).decode()
        yield {f.name: {s.name for s in f.samples} for f in text_string_to_metric_families(text)}
    finally:
        telemetry.shutdown_telemetry()
        set_engine(None)
        reset_settings()


def _metric_names(expr: str) -> set[str]:
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)  # label lists
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    return set(re.findall(r"\b(?:vmx|gen_ai)_[a-zA-Z0-9_]+", bare))


def test_every_dashboard_query_names_an_exported_metric(exported: dict[str, set[str]]) -> None:
    samples = set().union(*exported.values())
    dashboard = json.loads(DASHBOARD.read_text())
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = _metric_names(target["expr"])
            assert names, f"{panel['title']}: no metric in {target['expr']!r}"
            assert names <= samples, f"{panel['title']}: {sorted(names - samples)} not exported"
            used |= names
    shown = {family for family, names in exported.items() if names & used}
    assert shown == set(exported) - {"target_info"}  # and every metric the app exports has a panel


def test_compose_observability_profile_mounts_files_that_parse() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"vmx", "postgres", "redis"} <= set(services)
    observability = {n for n, s in services.items() if "observability" in s.get("profiles", [])}
    assert observability == {"otel-collector", "jaeger", "prometheus", "loki", "grafana"}
    for name in observability:
        for volume in services[name].get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                path = ROOT / source
                assert path.exists(), f"{name}: {source} missing"
                for file in [path] if path.is_file() else path.rglob("*"):
                    if file.suffix in (".yaml", ".yml"):
                        assert yaml.safe_load(file.read_text()), file
                    elif file.suffix == ".json":
                        json.loads(file.read_text())
    collector = yaml.safe_load((ROOT / "deploy/observability/otel-collector.yaml").read_text())
    pipelines = collector["service"]["pipelines"]
    assert set(pipelines) == {"traces", "metrics", "logs"}
    for pipeline in pipelines.values():
        assert set(pipeline["receivers"]) <= set(collector["receivers"])
        assert set(pipeline["exporters"]) <= set(collector["exporters"])
    vmx = services["vmx"]
    assert vmx["environment"]["METRICS_PROMETHEUS"] == "true"
    grace = int(vmx["environment"]["VMX_SHUTDOWN_GRACE_SECONDS"])
    assert int(vmx["stop_grace_period"].rstrip("s")) > grace
