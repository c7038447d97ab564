"""What the engine is given: the config source it reads snapshots from and the collaborators it calls
(audit sink, gate, error rates, breaker, adapters, clocks). No database, no framework."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from vmx_app.gateway.adapters import ProviderAdapter
from vmx_app.gateway.audit import AuditRecord, AuditSink
from vmx_app.gateway.capacity.gate import Gate
from vmx_app.gateway.config import ApiKeySnapshot, ConnectionSnapshot, EnvironmentSnapshot, ResourceSnapshot
from vmx_app.gateway.context import PricingFn
from vmx_app.gateway.fallback import CircuitBreaker
from vmx_app.gateway.metrics import ErrorRateSource
from vmx_app.gateway.thinking_store import InProcessThinkingStore, ThinkingStore


class ConfigSource(Protocol):
    """The config cache as the engine sees it: in-memory lookups, no database on the hot path."""

    async def get_resource(self, environment_id: str, name: str) -> ResourceSnapshot | None: ...

    async def get_connection(self, connection_id: str) -> ConnectionSnapshot | None: ...

    async def get_connection_by_name(self, environment_id: str, name: str) -> ConnectionSnapshot | None: ...

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeySnapshot | None: ...

    async def list_resources(self, environment_id: str) -> list[ResourceSnapshot]: ...

    async def get_environment(self, environment_id: str) -> EnvironmentSnapshot | None: ...

    async def environment_exists(self, workspace_id: str, environment_id: str) -> bool: ...


@dataclass
class EngineDeps:
    config: ConfigSource
    audit: AuditSink
    gate: Gate
    error_rates: ErrorRateSource
    breaker: CircuitBreaker
    adapter_for: Callable[[ConnectionSnapshot], ProviderAdapter]
    pricing: PricingFn | None = None
    store_payloads: Callable[[str], bool] = lambda _env: True
    payload_cap_bytes: int = 64 * 1024  # VMX_AUDIT_MAX_PAYLOAD_BYTES: larger bodies are stored as a preview
    clock: Callable[[], float] = time.monotonic  # deadlines, breaker
    wall: Callable[[], float] = time.time  # error-rate minute buckets
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rand: Callable[[], float] = random.random
    gate_active: bool = False  # False for AllowAllGate: no token estimate, no settle call
    tracer: Any = None  # an OpenTelemetry tracer; spans only when the request span records
    observe_limits: Callable[[ConnectionSnapshot, str, Mapping[str, str]], None] | None = None
    observe: Callable[[AuditRecord, Any], None] | None = None  # metrics + log line of a finished request
    capabilities: Callable[[str, str], Any] | None = None  # the catalog's ModelCapabilities of (provider, model)
    thinking: ThinkingStore | None = field(default_factory=InProcessThinkingStore)  # see conversion.py

    def primary_error_rate(self, resource: ResourceSnapshot) -> Callable[[int, str | int], float]:
        """`errorRate(window, status)` as routing reads it: the failure rate of the resource's primary model."""
        rates, wall = self.error_rates, self.wall
        key = (resource.id, resource.model.connection_id or "", resource.model.model)

        def error_rate(window: int, status: str | int) -> float:
            return rates.error_rate(key, window, status if status == "any" else int(status), wall())

        return error_rate
