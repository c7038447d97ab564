"""API keys of an environment: the value is shown once, only its SHA-256 is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.auth.api_keys import generate_api_key, hash_api_key, mask_api_key
from vmx_app.errors import Conflict, Invalid
from vmx_app.models import AIResource, ApiKey, Environment
from vmx_app.models.api_key import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, ApiKeyUpdate
from vmx_app.services.config_events import publish_change


async def publish_key_change(key: ApiKey) -> None:
    """Tell every gateway process to drop its cached copy of this key (hot-path cache, DESIGN §2).
    Called after the commit, so no process can reload the old row."""
    await publish_change(kind="api-key", id=key.id, env_id=key.environment_id)


async def list_keys(session: AsyncSession, *, env: Environment, offset: int,
                    limit: int) -> tuple[list[ApiKeyPublic], int]:
    where = ApiKey.environment_id == env.id
    total = (await session.exec(select(func.count()).select_from(ApiKey).where(where))).one()
    rows = (await session.exec(select(ApiKey).where(where).order_by(col(ApiKey.name)).offset(offset)
                               .limit(limit))).all()
    return [ApiKeyPublic.of(k) for k in rows], total


async def _check_resources(session: AsyncSession, env: Environment, ids: list[uuid.UUID]) -> list[str]:
    """Resource ids must be AI resources of this environment; answers them as strings, deduplicated."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found = set((await session.exec(select(AIResource.id).where(
        AIResource.environment_id == env.id, col(AIResource.id).in_(ids)))).all())
    bad = [{"field": f"resources.{i}", "message": "unknown AI resource in this environment"}
           for i, rid in enumerate(ids) if rid not in found]
    if bad:
        raise Invalid("resources: unknown AI resource id(s)", details=bad)
    return [str(r) for r in ids]


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise Invalid("expiresAt must be in the future",
                      details=[{"field": "expiresAt", "message": "must be in the future"}])


async def _name_taken(session: AsyncSession, env_id: uuid.UUID, name: str,
                      except_id: uuid.UUID | None = None) -> bool:
    stmt = select(ApiKey.id).where(ApiKey.environment_id == env_id, ApiKey.name == name)
    if except_id is not None:
        stmt = stmt.where(ApiKey.id != except_id)
    return (await session.exec(stmt)).first() is not None


async def create_key(session: AsyncSession, *, env: Environment, data: ApiKeyCreate,
                     actor_id: uuid.UUID) -> ApiKeyCreated:
    _check_expiry(data.expires_at)
    if await _name_taken(session, env.id, data.name):
        raise Conflict("An API key with this name already exists in the environment",
                       details=[{"field": "name", "message": "taken"}])
    value = generate_api_key()
    key = ApiKey(workspace_id=env.workspace_id, environment_id=env.id, name=data.name,
                 description=data.description, key_hash=hash_api_key(value), masked_key=mask_api_key(value),
                 enabled=data.enabled, resources=await _check_resources(session, env, data.resources),
                 labels=list(dict.fromkeys(data.labels)), capacity=[c.dump() for c in data.capacity],
                 enforce_capacity=data.enforce_capacity, budgets=[b.dump() for b in data.budgets],
                 expires_at=data.expires_at, created_by=actor_id,
                 updated_by=actor_id)
    session.add(key)
    await session.commit()
    await publish_key_change(key)  # drops any negative-cache entry for this hash
    return ApiKeyCreated(**ApiKeyPublic.of(key).model_dump(), api_key_value=value)


async def update_key(session: AsyncSession, *, key: ApiKey, env: Environment, data: ApiKeyUpdate,
                     actor_id: uuid.UUID) -> ApiKey:
    fields = data.model_fields_set
    if data.name is not None and data.name != key.name:
        if await _name_taken(session, env.id, data.name, key.id):
            raise Conflict("An API key with this name already exists in the environment",
                           details=[{"field": "name", "message": "taken"}])
        key.name = data.name
    if "description" in fields:
        key.description = data.description
    if data.enabled is not None:
        key.enabled = data.enabled
    if data.resources is not None:
        key.resources = await _check_resources(session, env, data.resources)
    if data.labels is not None:
        key.labels = list(dict.fromkeys(data.labels))
    if data.capacity is not None:
        key.capacity = [c.dump() for c in data.capacity]
    if data.enforce_capacity is not None:
        key.enforce_capacity = data.enforce_capacity
    if data.budgets is not None:
        key.budgets = [b.dump() for b in data.budgets]
    if "expires_at" in fields:
        _check_expiry(data.expires_at)
        key.expires_at = data.expires_at
    key.updated_at = datetime.now(UTC)
    key.updated_by = actor_id
    session.add(key)
    # Committed before the cache is told, so no gateway reloads the old row.
    await session.commit()
    await publish_key_change(key)
    return key


async def regenerate_key(session: AsyncSession, *, key: ApiKey, actor_id: uuid.UUID) -> ApiKeyCreated:
    """A new value for the same key (name, scope, labels, capacity kept); the old value stops working
    at once: its hash is gone from the row and every gateway drops the cached entry of this key id."""
    value = generate_api_key()
    key.key_hash = hash_api_key(value)
    key.masked_key = mask_api_key(value)
    key.updated_at = datetime.now(UTC)
    key.updated_by = actor_id
    session.add(key)
    await session.commit()
    await publish_key_change(key)
    return ApiKeyCreated(**ApiKeyPublic.of(key).model_dump(), api_key_value=value)


async def delete_key(session: AsyncSession, *, key: ApiKey) -> None:
    await session.delete(key)
    await session.commit()
    await publish_key_change(key)
