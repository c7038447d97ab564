"""The in-process sums behind the metrics: bucket edges as Prometheus reads them (le = less or equal),
errors by type, fallbacks and gate denials from the record's events, cost only when priced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vmx_app.gateway.audit import AuditRecord
from vmx_app.observability.meters import Histogram, RequestMeters


def _record(**fields: Any) -> AuditRecord:
    base: dict[str, Any] = {"request_id": "r", "created_at": datetime.now(UTC), "workspace_id": "w",
                            "environment_id": "e", "endpoint": "anthropic.messages", "status_code": 200,
                            "provider": "bedrock", "model": "m", "resource_name": "res", "duration_ms": 10.0}
    return AuditRecord(**{**base, **fields})


def test_histogram_buckets_are_less_or_equal() -> None:
    h = Histogram((1.0, 2.0))
    for v in (0.5, 1.0, 1.5, 2.0, 9.0):
        h.add(v)
    assert h.buckets == [2, 2, 1] and h.count == 5 and h.total == 14.0 and (h.low, h.high) == (0.5, 9.0)


def test_requests_errors_events_and_cost() -> None:
    m = RequestMeters()
    m.record(_record(prompt_tokens=5, completion_tokens=7, cost={"total": 0.25, "priced": True},
                     time_to_first_token_ms=20.0))
    denied = {"type": "fallback", "provider": "openai", "model": "a", "failureReason": "capacity_denied"}
    m.record(_record(status_code=429, error_type="rate_limit_error", cost={"total": 0.0, "priced": False},
                     events=[denied, {"type": "routing"}]))
    ok = ("chat", "aws.bedrock", "m", "res", "e", 200)
    failed = ok[:5] + (429,)
    assert m.requests == {ok: 1, failed: 1}
    assert m.errors == {(failed, "rate_limit_error"): 1}
    assert m.cost == {ok: 0.25}
    assert m.tokens[(ok, "input")].total == 5 and m.tokens[(ok, "output")].total == 7
    assert failed not in {k for k, _ in m.tokens}  # no usage, no token observation
    assert m.ttft[ok].count == 1 and failed not in m.ttft
    assert m.fallbacks == {("res", "openai", "a", "capacity_denied"): 1}
    assert m.gate_denials == {("res", "a"): 1}
