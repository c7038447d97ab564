"""AI resources: create, update, list and delete, with every model slot resolved to a connection id."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict, Invalid
from vmx_app.gateway.config import ModelSlot, ResourceConfig, RoutingConfig
from vmx_app.gateway.routing import validate_routing
from vmx_app.json_limits import json_depth
from vmx_app.models import AIConnection, AIResource, ApiKey
from vmx_app.models.ai_resource import AIResourceCreate, AIResourcePublic, AIResourceUpdate
from vmx_app.models.base import utcnow
from vmx_app.services.config_events import publish_change
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.resources")

_CONFIG_FIELDS = ("model", "secondary_models", "use_fallback", "fallback_models", "routing", "capacity",
                  "enforce_capacity", "default_args")


def iter_slots(stored: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, slot) of every model slot in a stored (camelCase) resource config."""
    if stored.get("model"):
        yield "model", stored["model"]
    for i, slot in enumerate(stored.get("secondaryModels") or []):
        yield f"secondaryModels[{i}]", slot
    for i, slot in enumerate(stored.get("fallbackModels") or []):
        yield f"fallbackModels[{i}]", slot
    for i, cond in enumerate((stored.get("routing") or {}).get("conditions") or []):
        if cond.get("then"):
            yield f"routing.conditions[{i}].then", cond["then"]


def stored_config(row: AIResource) -> dict[str, Any]:
    return {
        "model": row.model, "secondaryModels": row.secondary_models, "useFallback": row.use_fallback,
        "fallbackModels": row.fallback_models, "routing": row.routing, "capacity": row.capacity,
        "enforceCapacity": row.enforce_capacity, "defaultArgs": _readable_default_args(row),
    }


def _readable_default_args(row: AIResource) -> dict[str, Any]:
    """A row stored before VMX_MAX_JSON_DEPTH existed must not fail every completion of the resource (its
    body could not be serialized): such defaultArgs count as `{}` until the resource is saved again."""
    if json_depth(row.default_args) <= get_settings().vmx_max_json_depth:
        return row.default_args
    log.warning("AI resource %s: stored defaultArgs nest too deep; ignored", row.id)
    return {}


def slots_using(row: AIResource, connection_id: uuid.UUID | str) -> list[str]:
    target = str(connection_id)
    return [path for path, slot in iter_slots(stored_config(row)) if str(slot.get("connectionId")) == target]


def to_public(row: AIResource) -> AIResourcePublic:
    return AIResourcePublic.model_validate(row, from_attributes=True)


def _invalid(errors: list[tuple[str, str]]) -> Invalid:
    """400 `invalid_request` whose message starts with the first failing path."""
    first_path, first_msg = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Invalid(f"{first_path}: {first_msg}{more}",
                   details=[{"field": path, "message": msg} for path, msg in errors])


def _resolve_slot(slot: ModelSlot, path: str, by_id: dict[str, AIConnection], by_name: dict[str, AIConnection],
                  errors: list[tuple[str, str]]) -> ModelSlot:
    conn: AIConnection | None
    if slot.connection_id:  # connectionId wins when both are sent
        conn = by_id.get(slot.connection_id.strip().lower())
        if conn is None:
            errors.append((f"{path}.connectionId", f"no connection {slot.connection_id!r} in this environment"))
            return slot
    elif slot.connection_name:
        conn = by_name.get(slot.connection_name)
        if conn is None:
            errors.append((f"{path}.connectionName",
                           f"no connection named {slot.connection_name!r} in this environment"))
            return slot
    else:
        errors.append((path, "connectionId or connectionName is required"))
        return slot
    if slot.provider != conn.provider:
        errors.append((f"{path}.provider", f"{slot.provider!r} does not match connection {conn.name!r}, "
                                           f"whose provider is {conn.provider!r}"))
    if conn.allowed_models and slot.model not in conn.allowed_models:
        errors.append((f"{path}.model", f"{slot.model!r} is not in the allowedModels of connection "
                                        f"{conn.name!r}: {', '.join(conn.allowed_models)}"))
    return slot.model_copy(update={"connection_id": str(conn.id), "connection_name": None})


async def resolve_config(*, session: AsyncSession, environment_id: uuid.UUID,
                         config: ResourceConfig) -> dict[str, Any]:
    """Validate a resource config and return its stored (camelCase) form, slots naming connection ids.

    Raises 400 `invalid_request` naming every failing slot path."""
    conns = (await session.exec(select(AIConnection).where(AIConnection.environment_id == environment_id))).all()
    by_id = {str(c.id): c for c in conns}
    by_name = {c.name: c for c in conns}
    errors: list[tuple[str, str]] = []
    model = _resolve_slot(config.model, "model", by_id, by_name, errors)
    secondary = [_resolve_slot(s, f"secondaryModels[{i}]", by_id, by_name, errors)
                 for i, s in enumerate(config.secondary_models)]
    fallback = [_resolve_slot(s, f"fallbackModels[{i}]", by_id, by_name, errors)
                for i, s in enumerate(config.fallback_models)]
    routing: RoutingConfig | None = config.routing
    if routing is not None:
        conditions = []
        for i, cond in enumerate(routing.conditions):
            if cond.then is not None:
                then = _resolve_slot(cond.then, f"routing.conditions[{i}].then", by_id, by_name, errors)
                cond = cond.model_copy(update={"then": then})
            conditions.append(cond)
        routing = routing.model_copy(update={"conditions": conditions})
        errors += [tuple(e.split(": ", 1)) if ": " in e else ("routing", e)  # type: ignore[misc]
                   for e in validate_routing(routing)]
    if errors:
        raise _invalid(errors)
    return {
        "model": model.dump(),
        "secondaryModels": [s.dump() for s in secondary],
        "useFallback": config.use_fallback,
        "fallbackModels": [s.dump() for s in fallback],
        "routing": routing.dump() if routing is not None else None,
        "capacity": [c.dump() for c in config.capacity],
        "enforceCapacity": config.enforce_capacity,
        "defaultArgs": config.default_args,
    }


def _apply(row: AIResource, stored: dict[str, Any]) -> None:
    row.model = stored["model"]
    row.secondary_models = stored["secondaryModels"]
    row.use_fallback = stored["useFallback"]
    row.fallback_models = stored["fallbackModels"]
    row.routing = stored["routing"]
    row.capacity = stored["capacity"]
    row.enforce_capacity = stored["enforceCapacity"]
    row.default_args = stored["defaultArgs"]


async def _check_name_free(session: AsyncSession, environment_id: uuid.UUID, name: str,
                           exclude: uuid.UUID | None = None) -> None:
    query = select(AIResource.id).where(AIResource.environment_id == environment_id, AIResource.name == name)
    if exclude is not None:
        query = query.where(AIResource.id != exclude)
    if (await session.exec(query)).first() is not None:
        raise Conflict(f"an AI resource named {name!r} already exists in this environment", details={"name": name})


async def _api_keys(session: AsyncSession, environment_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[ApiKey]:
    if not ids:
        return []
    rows = (await session.exec(select(ApiKey).where(ApiKey.id.in_(list(ids))))).all()  # type: ignore[attr-defined]
    found = {r.id: r for r in rows if r.environment_id == environment_id}
    missing = [(f"assignApiKeys[{i}]", f"no API key {str(k)!r} in this environment")
               for i, k in enumerate(ids) if k not in found]
    if missing:
        raise _invalid(missing)
    return [found[k] for k in dict.fromkeys(ids)]


def _assign(keys: list[ApiKey], resource_id: uuid.UUID) -> None:
    rid = str(resource_id)
    for key in keys:
        if rid not in key.resources:
            key.resources = [*key.resources, rid]  # a new list: JSON columns track assignment, not mutation


async def _commit(session: AsyncSession, name: str) -> None:
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"an AI resource named {name!r} already exists in this environment", details={"name": name}) \
            from None


async def _publish(row: AIResource, keys: list[ApiKey]) -> None:
    await publish_change("resource", row.id, row.environment_id)
    for key in keys:
        await publish_change("api-key", key.id, key.environment_id)


async def list_resources(*, session: AsyncSession, environment_id: uuid.UUID,
                         connection_id: uuid.UUID | None = None) -> list[AIResource]:
    rows = (await session.exec(select(AIResource).where(AIResource.environment_id == environment_id)
                               .order_by(AIResource.name))).all()  # type: ignore[arg-type]
    if connection_id is not None:
        rows = [r for r in rows if slots_using(r, connection_id)]
    return list(rows)


async def create_resource(*, session: AsyncSession, workspace_id: uuid.UUID, environment_id: uuid.UUID,
                          data: AIResourceCreate, user_id: uuid.UUID | None) -> AIResource:
    await _check_name_free(session, environment_id, data.name)
    config = ResourceConfig(**{f: getattr(data, f) for f in _CONFIG_FIELDS})
    stored = await resolve_config(session=session, environment_id=environment_id, config=config)
    keys = await _api_keys(session, environment_id, data.assign_api_keys)
    row = AIResource(workspace_id=workspace_id, environment_id=environment_id, name=data.name,
                     description=data.description, budgets=[b.dump() for b in data.budgets],
                     allow_overrides=data.allow_overrides, created_by=user_id, updated_by=user_id)
    _apply(row, stored)
    session.add(row)
    _assign(keys, row.id)
    await _commit(session, data.name)
    await _publish(row, keys)
    return row


async def update_resource(*, session: AsyncSession, row: AIResource, data: AIResourceUpdate,
                          user_id: uuid.UUID | None) -> AIResource:
    sent = data.model_fields_set
    if "name" in sent and data.name is not None and data.name != row.name:
        await _check_name_free(session, row.environment_id, data.name, exclude=row.id)
        row.name = data.name
    if "description" in sent:
        row.description = data.description
    if data.budgets is not None:
        row.budgets = [b.dump() for b in data.budgets]
    if "allow_overrides" in sent:
        if data.allow_overrides is None:
            raise Invalid("allowOverrides: must not be null",
                          details=[{"field": "allowOverrides", "message": "must not be null"}])
        row.allow_overrides = data.allow_overrides
    # Merge what was sent over what is stored, then validate the whole config again: a slot kept from
    # before must still resolve (its connection's allowedModels may have changed).
    merged = stored_config(row)
    patch = data.model_dump(include={f for f in _CONFIG_FIELDS if f in sent}, by_alias=True, mode="json")
    for key, value in patch.items():
        if value is None and key not in ("routing",):
            raise Invalid(f"{key}: must not be null", details=[{"field": key, "message": "must not be null"}])
        merged[key] = value
    stored = await resolve_config(session=session, environment_id=row.environment_id,
                                  config=ResourceConfig.model_validate(merged))
    keys = await _api_keys(session, row.environment_id, data.assign_api_keys or [])
    _apply(row, stored)
    row.updated_at = utcnow()
    row.updated_by = user_id
    session.add(row)
    _assign(keys, row.id)
    await _commit(session, row.name)
    await _publish(row, keys)
    return row


async def delete_resource(*, session: AsyncSession, row: AIResource) -> None:
    # API keys keep the dangling id on purpose: emptying a key's list would open it to every resource.
    resource_id, environment_id = row.id, row.environment_id
    await session.delete(row)
    await session.commit()
    await publish_change("resource", resource_id, environment_id)
