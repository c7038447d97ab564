"""Runtime gauges for the metrics: circuit breakers, audit queue, config cache, upstream pools.
Registered once; read only when a metrics reader collects (never on the hot path)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from vmx_app.audit.writer import get_audit_writer
from vmx_app.gateway.adapters.transport import upstream_in_flight
from vmx_app.services import config_cache
from vmx_app.services.gateway_runtime import get_engine
from vmx_app.telemetry import add_gauge

Points = Iterable[tuple[float, dict[str, Any]]]
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def _breakers() -> Points:
    states = get_engine().deps.breaker.states(time.monotonic())
    return [(BREAKER_VALUES[state], {"vmx.connection.id": conn, "gen_ai.request.model": model, "vmx.state": state})
            for (conn, model), state in states.items()]


def _audit_queue() -> Points:
    return [(get_audit_writer().queue_depth, {})]


def _cache_hit_ratio() -> Points:
    cache = config_cache.get_cache()
    if not cache.lookups:
        return []
    return [(max(0.0, 1.0 - cache.loads / cache.lookups), {})]


def _upstream() -> Points:
    calls, pools = upstream_in_flight()
    return [(calls, {"vmx.pool.state": "in_use"}), (pools, {"vmx.pool.state": "open_pools"})]


def register_runtime_gauges() -> None:
    add_gauge("vmx.circuit_breaker.state", "{state}", "Circuits that are not closed: 1 half-open, 2 open", _breakers)
    add_gauge("vmx.audit.queue.depth", "{record}", "Audit records waiting to be written", _audit_queue)
    add_gauge("vmx.config_cache.hit_ratio", "1", "Share of config lookups answered from memory", _cache_hit_ratio)
    add_gauge("vmx.upstream.connections", "{connection}", "Provider calls holding a pooled connection, and "
              "open provider pools", _upstream)
