"""The process-wide gateway engine, wired to the config cache, the audit writer, the pricing catalog
and the provider adapters. Everything the hot path reads lives in memory here; the few things that
come from the database (pricing, the environments' payload setting) are refreshed in the background.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from vmx_app.audit.writer import get_audit_writer
from vmx_app.db import session_scope
from vmx_app.gateway.adapters import get_adapter
from vmx_app.gateway.adapters.transport import configure_timeouts
from vmx_app.gateway.capacity.counters import CounterStore, MemoryCounters
from vmx_app.gateway.capacity.enforcing import CapacityGate
from vmx_app.gateway.capacity.gate import AllowAllGate, Gate
from vmx_app.gateway.capacity.redis_counters import RedisCounters
from vmx_app.gateway.config import (
    ApiKeySnapshot,
    ConnectionSnapshot,
    EnvironmentSnapshot,
    ModelCapabilities,
    ResourceSnapshot,
)
from vmx_app.gateway.deps import EngineDeps
from vmx_app.gateway.engine import Engine
from vmx_app.gateway.fallback import CircuitBreaker
from vmx_app.gateway.metrics import ErrorRateCounters, ErrorRateSource
from vmx_app.gateway.thinking_store import InProcessThinkingStore, RedisThinkingStore, ThinkingStore
from vmx_app.gateway.types import Usage
from vmx_app.models import AIResource, Environment
from vmx_app.observability.observer import make_observer
from vmx_app.redis_client import get_redis
from vmx_app.services import config_cache, config_events, model_pricing
from vmx_app.services.discovered_capacity import DiscoveredCapacityRecorder
from vmx_app.services.error_rates_shared import SharedErrorRates
from vmx_app.settings import get_settings
from vmx_app.telemetry import request_meters, tracer

log = logging.getLogger("vmx.gateway")

_REFRESH_S = 30.0


@dataclass(frozen=True, slots=True)
class ResourceRef:
    id: str
    workspace_id: str
    name: str


class CacheConfigSource:
    """The config cache behind the engine's ConfigSource protocol."""

    async def get_resource(self, environment_id: str, name: str) -> ResourceSnapshot | None:
        return await config_cache.get_resource(environment_id, name)

    async def get_connection(self, connection_id: str) -> ConnectionSnapshot | None:
        return await config_cache.get_connection(connection_id)

    async def get_connection_by_name(self, environment_id: str, name: str) -> ConnectionSnapshot | None:
        return await config_cache.get_connection_by_name(environment_id, name)

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeySnapshot | None:
        return await config_cache.get_api_key_by_hash(key_hash)

    async def get_environment(self, environment_id: str) -> EnvironmentSnapshot | None:
        return await config_cache.get_environment(environment_id)

    async def environment_exists(self, workspace_id: str, environment_id: str) -> bool:
        return await config_cache.environment_exists(workspace_id, environment_id)

    async def list_resources(self, environment_id: str) -> list[ResourceRef]:
        """Off the hot path (GET …/models): a read of the resources' names."""
        try:
            env = uuid.UUID(environment_id)
        except ValueError:
            return []
        async with session_scope(readonly=True) as session:
            rows = (await session.exec(
                select(AIResource.id, AIResource.workspace_id, AIResource.name)
                .where(AIResource.environment_id == env))).all()
        return [ResourceRef(str(r[0]), str(r[1]), r[2]) for r in rows]


class BackgroundRefreshed:
    """Pricing lookup and per-environment payload setting: read from memory, refreshed off-path."""

    def __init__(self) -> None:
        self._lookup: model_pricing.PricingLookup | None = None
        self._lookup_at = 0.0
        self._payloads: dict[str, tuple[bool, float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: set[str] = set()
        self._store_default = get_settings().vmx_audit_store_payloads

    def _spawn(self, key: str, coro: Any) -> None:
        if key in self._pending:
            coro.close()
            return
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:
            coro.close()
            return
        self._pending.add(key)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            self._pending.discard(key)
            if not t.cancelled() and t.exception() is not None:
                log.warning("gateway background refresh %s failed: %s", key, t.exception())

        task.add_done_callback(_done)

    async def warm(self) -> None:
        try:
            await self._refresh_pricing()
        except Exception as exc:  # noqa: BLE001 - costs come later, requests must not wait on it
            log.warning("pricing catalog not loaded yet: %s", exc)
        try:
            await self._load_all_envs()
        except Exception as exc:  # noqa: BLE001 - loaded per environment on first use instead
            log.warning("environments' audit settings not loaded yet: %s", exc)

    async def _load_all_envs(self) -> None:
        async with session_scope(readonly=True) as session:
            rows = (await session.exec(select(Environment.id, Environment.audit_store_payloads))).all()
        until = time.monotonic() + _REFRESH_S
        for env_id, store in rows:
            self._payloads[str(env_id)] = (bool(store), until)

    async def _refresh_pricing(self) -> None:
        self._lookup = await model_pricing.get_pricing_lookup()
        self._lookup_at = time.monotonic()

    def _catalog(self) -> model_pricing.PricingLookup | None:
        """The catalog in memory; a stale one is reloaded in the background (requests never wait)."""
        if self._lookup is None or time.monotonic() - self._lookup_at > _REFRESH_S:
            self._spawn("pricing", self._refresh_pricing())
        return self._lookup

    def capabilities(self, provider: str, model: str) -> ModelCapabilities | None:
        """The catalog entry's capability flags (None: not in the catalog, or no flags set)."""
        lookup = self._catalog()
        entry = lookup.find(provider, model) if lookup is not None else None
        return entry.capabilities if entry is not None else None

    def pricing(self, provider: str, model: str, usage: Usage) -> dict[str, Any] | None:
        lookup = self._catalog()
        return model_pricing.compute_cost(lookup.find(provider, model) if lookup is not None else None, usage)

    def price_of(self, provider: str, model: str) -> tuple[float, float] | None:
        """USD per million (input, output) tokens, for a budget's worst-case reservation."""
        if self._lookup is None or time.monotonic() - self._lookup_at > _REFRESH_S:
            self._spawn("pricing", self._refresh_pricing())
        entry = self._lookup.find(provider, model) if self._lookup is not None else None
        return None if entry is None else (entry.input, entry.output)

    def cost_of(self, provider: str, model: str, usage: Usage) -> float | None:
        """The real cost in USD (what the audit row says), None when the model has no price."""
        cost = self.pricing(provider, model, usage)
        return float(cost["total"]) if cost and cost.get("priced") else None

    def store_payloads(self, environment_id: str) -> bool:
        if not self._store_default:
            return False
        hit = self._payloads.get(environment_id)
        if hit is None or hit[1] < time.monotonic():
            self._spawn(f"env:{environment_id}", self._load_env(environment_id))
        # Unknown (created since start-up, being read now): the default. Environments that existed at
        # start-up were read by warm(); a changed one reads as off until reloaded (see invalidate).
        return True if hit is None else hit[0]

    async def _load_env(self, environment_id: str) -> None:
        try:
            env_id = uuid.UUID(environment_id)
        except ValueError:
            return
        async with session_scope(readonly=True) as session:
            row = await session.get(Environment, env_id)
        value = True if row is None else bool(getattr(row, "audit_store_payloads", True))
        self._payloads[environment_id] = (value, time.monotonic() + _REFRESH_S)

    def invalidate(self, change: config_events.ConfigChange) -> None:
        if change.kind in ("environment", "workspace", "all"):
            if change.id is None or change.kind != "environment":
                self._payloads.clear()
            else:
                # Privacy first: until the new setting is read (a background load, milliseconds), this
                # environment stores no bodies, so switching them off takes effect on the next request.
                self._payloads[str(change.id)] = (False, 0.0)
        if change.kind in ("model-pricing", "all"):
            self._lookup_at = 0.0
            self._spawn("pricing", self._refresh_pricing())  # now, not on the next request's cost


_engine: Engine | None = None
_counters: CounterStore | None = None
_refreshed: BackgroundRefreshed | None = None
_warmed = False


def _error_rate_source() -> ErrorRateSource:
    """Shared through Redis when it is configured (every pod routes on the same errorRate), else in-process."""
    redis = get_redis()
    if redis is None:
        return ErrorRateCounters()
    return SharedErrorRates(redis, get_settings().redis_key_prefix)


def counter_store() -> CounterStore:
    """The capacity and budget counters: Redis when configured (every process shares them), else in-process."""
    global _counters
    if _counters is None:
        redis = get_redis()
        settings = get_settings()
        single = settings.redis_url if settings.redis_mode == "single" else None
        _counters = MemoryCounters() if redis is None else RedisCounters(redis, url=single)
    return _counters


def capacity_gate(refreshed: BackgroundRefreshed) -> CapacityGate:
    settings = get_settings()
    return CapacityGate(counter_store(), prefix=settings.redis_key_prefix,
                        on_store_error=settings.capacity_on_redis_error, price_of=refreshed.price_of,
                        cost_of=refreshed.cost_of,
                        default_max_output=settings.vmx_budget_default_max_output_tokens,
                        batch_share=settings.vmx_batch_headroom_share)


def _thinking_store() -> ThinkingStore:
    """Signed thinking kept for clients that drop it: in Redis when configured (any pod serves the next
    turn), else in-process."""
    redis = get_redis()
    if redis is None:
        return InProcessThinkingStore()
    return RedisThinkingStore(redis, get_settings().redis_key_prefix)


def build_engine(*, gate: Gate | None = None, error_rates: ErrorRateSource | None = None) -> Engine:
    global _refreshed
    settings = get_settings()
    configure_timeouts(settings.vmx_upstream_connect_timeout_seconds, settings.vmx_upstream_read_timeout_seconds)
    refreshed = _refreshed = BackgroundRefreshed()
    gate = gate or capacity_gate(refreshed)
    deps = EngineDeps(
        config=CacheConfigSource(),
        audit=get_audit_writer(),
        gate=gate,
        error_rates=error_rates or _error_rate_source(),
        breaker=CircuitBreaker(),
        adapter_for=get_adapter,
        pricing=refreshed.pricing,
        capabilities=refreshed.capabilities,
        thinking=_thinking_store(),
        store_payloads=refreshed.store_payloads,
        payload_cap_bytes=get_settings().vmx_audit_max_payload_bytes,
        gate_active=not isinstance(gate, AllowAllGate),
        tracer=tracer(),
        observe_limits=DiscoveredCapacityRecorder().observe,
        observe=make_observer(request_meters()),
    )
    return Engine(deps)


def _on_change(change: config_events.ConfigChange) -> None:
    if _refreshed is not None:
        _refreshed.invalidate(change)


config_events.add_invalidation_hook(_on_change)


def get_engine() -> Engine:
    global _engine
    if _engine is None:
        _engine = build_engine()
    return _engine


async def ready_engine() -> Engine:
    """The engine, with the pricing catalog loaded once before the first request is answered."""
    global _warmed
    engine = get_engine()
    if not _warmed:
        _warmed = True
        if _refreshed is not None:
            await _refreshed.warm()
    return engine


def set_engine(engine: Engine | None) -> None:
    """Tests and the capacity issue swap the engine (e.g. with a real gate)."""
    global _engine, _warmed
    _engine, _warmed = engine, False
