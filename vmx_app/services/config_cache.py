"""The hot path's view of the configuration: resources, connections (credentials decrypted, in memory
only) and API keys, held in this process and never read from the database per request.

A miss loads from the database once (concurrent misses share the load); misses are cached briefly
too. `config_events.publish_change` invalidates at once (here, and in other processes through
Redis); the TTL bounds staleness if a message is lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import select

from vmx_app.db import session_scope
from vmx_app.gateway.adapters import forget as forget_adapter
from vmx_app.gateway.config import ApiKeySnapshot, ConnectionSnapshot, EnvironmentSnapshot, ResourceSnapshot
from vmx_app.models import AIConnection, AIResource, ApiKey, Environment, PoolDefinition
from vmx_app.services import config_events
from vmx_app.services.ai_connections import CredentialsUnreadable, decrypt_config
from vmx_app.services.ai_resources import stored_config
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.config")

NEGATIVE_TTL_S = 2.0  # how long "no such thing" is believed (a create also invalidates it at once)


class ConnectionCredentialsError(Exception):
    """The connection exists but its stored credentials cannot be decrypted (wrong key, tampering)."""

    def __init__(self, connection_id: str, detail: str) -> None:
        super().__init__(f"credentials of AI connection {connection_id} cannot be decrypted: {detail}")
        self.connection_id = connection_id


@dataclass(slots=True)
class _Slot:
    value: Any
    expires: float


class BoundedTable(OrderedDict[str, _Slot]):
    """API keys by hash, least recently used first: at most `size` entries, and expired ones swept
    once per TTL, so a flood of random keys cannot grow the process without bound."""

    def __init__(self, size: int, sweep_every_s: float) -> None:
        super().__init__()
        self.size = size
        self.sweep_every_s = sweep_every_s
        self._next_sweep = time.monotonic() + sweep_every_s

    def hit(self, key: str) -> _Slot | None:
        slot = self.get(key)
        if slot is not None:
            self.move_to_end(key)
        return slot

    def __setitem__(self, key: str, value: _Slot) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every_s
            for stale in [k for k, s in self.items() if s.expires <= now]:
                del self[stale]
        while len(self) > self.size:
            self.popitem(last=False)


def _env_of(value: Any) -> str | None:
    return getattr(value, "environment_id", None)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


class ConfigCache:
    def __init__(self, ttl_s: float | None = None) -> None:
        self.ttl_s = float(get_settings().vmx_config_cache_ttl_seconds if ttl_s is None else ttl_s)
        self._resources: dict[tuple[str, str], _Slot] = {}
        self._connections: dict[str, _Slot] = {}
        self._connection_ids: dict[tuple[str, str], _Slot] = {}  # (env, name) -> id | None
        self._api_keys = BoundedTable(get_settings().vmx_api_key_cache_size, self.ttl_s)
        # Environments by id: bounded like the keys, so a flood of random ids in URLs costs no memory.
        self._environments = BoundedTable(get_settings().vmx_api_key_cache_size, self.ttl_s)
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        # Bumped by every invalidation: a load that started before it must not store what it read.
        self._generation = 0
        self.loads = 0  # database loads, for tests and diagnostics
        self.lookups = 0  # reads (hits = lookups - loads): the config-cache hit-ratio gauge

    # ---- reads ------------------------------------------------------------------------------------

    async def get_resource(self, env_id: Any, name: str) -> ResourceSnapshot | None:
        self.lookups += 1
        key = (str(env_id), name)
        slot = self._resources.get(key)
        if slot is not None and slot.expires > time.monotonic():
            return slot.value  # type: ignore[no-any-return]
        return await self._load(("r", key), self._resources, key, lambda: _load_resource(key[0], name))

    async def get_connection(self, conn_id: Any) -> ConnectionSnapshot | None:
        """Raises ConnectionCredentialsError when the credentials do not decrypt."""
        self.lookups += 1
        key = str(conn_id)
        slot = self._connections.get(key)
        if slot is None or slot.expires <= time.monotonic():
            value = await self._load(("c", key), self._connections, key, lambda: _load_connection(key))
        else:
            value = slot.value
        if isinstance(value, ConnectionCredentialsError):
            raise value
        return value  # type: ignore[no-any-return]

    async def get_connection_by_name(self, env_id: Any, name: str) -> ConnectionSnapshot | None:
        key = (str(env_id), name)
        slot = self._connection_ids.get(key)
        if slot is not None and slot.expires > time.monotonic():
            conn_id = slot.value
        else:
            conn_id = await self._load(("n", key), self._connection_ids, key,
                                       lambda: _load_connection_id(key[0], name))
        if conn_id is None:
            return None
        conn = await self.get_connection(conn_id)
        # A rename between the two lookups must not hand back a connection under its old name.
        return conn if conn is not None and conn.environment_id == key[0] and conn.name == name else None

    async def get_api_key_by_hash(self, key_hash: str) -> ApiKeySnapshot | None:
        self.lookups += 1
        slot = self._api_keys.hit(key_hash)
        if slot is not None and slot.expires > time.monotonic():
            return slot.value  # type: ignore[no-any-return]
        # An unknown key is believed unknown for the full TTL (creating a key invalidates at once):
        # a storm of the same bad key costs one database query.
        return await self._load(("k", key_hash), self._api_keys, key_hash, lambda: _load_api_key(key_hash),
                                negative_ttl_s=self.ttl_s)

    async def get_environment(self, env_id: Any) -> EnvironmentSnapshot | None:
        key = str(env_id)
        slot = self._environments.hit(key)
        if slot is not None and slot.expires > time.monotonic():
            return slot.value  # type: ignore[no-any-return]
        return await self._load(("e", key), self._environments, key, lambda: _load_environment(key))

    async def environment_exists(self, workspace_id: Any, environment_id: Any) -> bool:
        """Whether the ids name an environment of that workspace (asked only when a key fails)."""
        env = await self.get_environment(environment_id)
        return env is not None and env.workspace_id == str(workspace_id)

    async def _load(self, flight: Hashable, table: dict[Any, _Slot], key: Any,
                    loader: Callable[[], Awaitable[Any]], negative_ttl_s: float = NEGATIVE_TTL_S) -> Any:
        pending = self._inflight.get(flight)
        if pending is None:
            pending = asyncio.ensure_future(self._fill(flight, table, key, loader, negative_ttl_s))
            self._inflight[flight] = pending
        # shield: one caller giving up (timeout, disconnect) must not cancel the others' load.
        return await asyncio.shield(pending)

    async def _fill(self, flight: Hashable, table: dict[Any, _Slot], key: Any,
                    loader: Callable[[], Awaitable[Any]], negative_ttl_s: float) -> Any:
        generation = self._generation
        try:
            self.loads += 1
            value = await loader()
            if generation == self._generation:
                ttl = self.ttl_s if value is not None and not isinstance(value, Exception) else \
                    min(negative_ttl_s, self.ttl_s)
                table[key] = _Slot(value, time.monotonic() + ttl)
            return value
        finally:
            self._inflight.pop(flight, None)

    # ---- invalidation -----------------------------------------------------------------------------

    def invalidate(self, change: config_events.ConfigChange) -> None:
        self._generation += 1
        kind, env = change.kind, change.env_id
        if kind == "resource":
            self._drop_env(self._resources, env)
        elif kind == "connection":
            if change.id is not None:
                self._connections.pop(change.id, None)
                forget_adapter(change.id)
            else:
                self._connections.clear()
            self._drop_env(self._connection_ids, env)
        elif kind == "api-key":
            drop = [h for h, s in self._api_keys.items()
                    if s.value is None or change.id is None or s.value.id == change.id]
            for h in drop:
                self._api_keys.pop(h, None)
        elif kind == "environment" and env is not None:
            # Deleting an environment cascades to everything in it: drop exactly that.
            self._environments.pop(env, None)
            self._drop_env(self._resources, env)
            self._drop_env(self._connection_ids, env)
            for table in (self._connections, self._api_keys):
                for key in [k for k, s in table.items() if _env_of(s.value) in (None, env)]:
                    table.pop(key, None)
        elif kind in ("environment", "workspace", "all"):
            self.clear()

    def _drop_env(self, table: dict[tuple[str, str], _Slot], env: str | None) -> None:
        for key in [k for k in table if env is None or k[0] == env]:
            table.pop(key, None)

    def clear(self) -> None:
        self._generation += 1
        for conn_id in list(self._connections):
            forget_adapter(conn_id)
        self._resources.clear()
        self._connections.clear()
        self._connection_ids.clear()
        self._api_keys.clear()
        self._environments.clear()

    def stats(self) -> dict[str, int]:
        """Database loads so far and entries held (diagnostics route, tests)."""
        return {"loads": self.loads, "apiKeys": len(self._api_keys), "apiKeyCapacity": self._api_keys.size,
                "resources": len(self._resources), "connections": len(self._connections)}

    def peek_resource(self, env_id: Any, name: str) -> tuple[ResourceSnapshot | None, float | None]:
        """What is held for (env, name) without loading: (snapshot, seconds left) or (None, None)."""
        slot = self._resources.get((str(env_id), name))
        if slot is None:
            return None, None
        return slot.value, max(0.0, slot.expires - time.monotonic())


# ---- loaders -------------------------------------------------------------------------------------------

async def _load_resource(env_id: str, name: str) -> ResourceSnapshot | None:
    env = _uuid(env_id)
    if env is None:
        return None
    async with session_scope(readonly=False) as session:
        row = (await session.exec(select(AIResource).where(AIResource.environment_id == env,
                                                           AIResource.name == name))).first()
    if row is None:
        return None
    try:
        return ResourceSnapshot.model_validate({
            **stored_config(row), "id": str(row.id), "workspaceId": str(row.workspace_id),
            "environmentId": str(row.environment_id), "name": row.name, "budgets": row.budgets or [],
            "allowOverrides": row.allow_overrides,
        })
    except ValidationError as exc:
        log.error("AI resource %s has an invalid stored config: %s", row.id, exc)
        return None


async def _load_connection(conn_id: str) -> ConnectionSnapshot | ConnectionCredentialsError | None:
    cid = _uuid(conn_id)
    if cid is None:
        return None
    async with session_scope(readonly=False) as session:
        row = await session.get(AIConnection, cid)
    if row is None:
        return None
    try:
        config = await decrypt_config(row.provider, row.config, row.id)
    except CredentialsUnreadable as exc:
        log.error("AI connection %s: %s", row.id, exc)  # the message names the field, never its value
        return ConnectionCredentialsError(str(row.id), str(exc))
    return ConnectionSnapshot(
        id=str(row.id), workspace_id=str(row.workspace_id), environment_id=str(row.environment_id),
        name=row.name, provider=row.provider, config=config, capacity=row.capacity,  # type: ignore[arg-type]
        allowed_models=row.allowed_models, model_capabilities=config.get("modelCapabilities") or {},
    )


async def _load_connection_id(env_id: str, name: str) -> str | None:
    env = _uuid(env_id)
    if env is None:
        return None
    async with session_scope(readonly=False) as session:
        found = (await session.exec(select(AIConnection.id).where(AIConnection.environment_id == env,
                                                                  AIConnection.name == name))).first()
    return None if found is None else str(found)


async def _load_api_key(key_hash: str) -> ApiKeySnapshot | None:
    async with session_scope(readonly=False) as session:
        row = (await session.exec(select(ApiKey).where(ApiKey.key_hash == key_hash))).first()
    if row is None:
        return None
    return ApiKeySnapshot(
        id=str(row.id), workspace_id=str(row.workspace_id), environment_id=str(row.environment_id),
        name=row.name, enabled=row.enabled, resources=list(row.resources), labels=list(row.labels),
        capacity=row.capacity, enforce_capacity=row.enforce_capacity,  # type: ignore[arg-type]
        budgets=row.budgets or [],  # type: ignore[arg-type]
        expires_at=row.expires_at.timestamp() if row.expires_at else None,
        user_id=str(row.created_by) if row.created_by else None,
    )


async def _load_environment(env_id: str) -> EnvironmentSnapshot | None:
    env = _uuid(env_id)
    if env is None:
        return None
    async with session_scope(readonly=False) as session:
        row = await session.get(Environment, env)
        pools = (await session.exec(select(PoolDefinition.definition).where(
            PoolDefinition.environment_id == env))).first()
    if row is None:
        return None
    return EnvironmentSnapshot(id=str(row.id), workspace_id=str(row.workspace_id), name=row.name,
                               budgets=row.budgets or [], pools=pools or [])  # type: ignore[arg-type]


# ---- the process-wide cache ----------------------------------------------------------------------------

_cache: ConfigCache | None = None


def get_cache() -> ConfigCache:
    global _cache
    if _cache is None:
        _cache = ConfigCache()
    return _cache


def _on_change(change: config_events.ConfigChange) -> None:
    if _cache is not None:
        _cache.invalidate(change)


config_events.add_invalidation_hook(_on_change)


async def get_resource(env_id: Any, name: str) -> ResourceSnapshot | None:
    return await get_cache().get_resource(env_id, name)


async def get_connection(conn_id: Any) -> ConnectionSnapshot | None:
    return await get_cache().get_connection(conn_id)


async def get_connection_by_name(env_id: Any, name: str) -> ConnectionSnapshot | None:
    return await get_cache().get_connection_by_name(env_id, name)


async def get_api_key_by_hash(key_hash: str) -> ApiKeySnapshot | None:
    return await get_cache().get_api_key_by_hash(key_hash)


async def get_environment(env_id: Any) -> EnvironmentSnapshot | None:
    return await get_cache().get_environment(env_id)


async def environment_exists(workspace_id: Any, environment_id: Any) -> bool:
    return await get_cache().environment_exists(workspace_id, environment_id)
