"""Prioritization pool definitions (`/v1/pool-definition/{ws}/{env}`, DESIGN §6): one per environment,
validated as a whole (400 naming the field), published so every gateway process reloads it."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from pydantic import ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Invalid, not_found
from vmx_app.gateway.capacity.counters import CountersUnavailable
from vmx_app.gateway.capacity.pools import Allocation, Pool
from vmx_app.models import AIConnection, AIResource, Environment
from vmx_app.models.base import utcnow
from vmx_app.models.pool_definition import PoolDefinition, PoolDefinitionPublic, PoolDefinitionPut
from vmx_app.services.config_events import publish_change
from vmx_app.services.gateway_runtime import counter_store
from vmx_app.settings import get_settings


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_definition(body: Any) -> PoolDefinitionPut:
    """The body, or Invalid naming the first bad field (`definition[1].minReservation`)."""
    try:
        return PoolDefinitionPut.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(f"{_field(first['loc'])}: {first['msg']}", field=_field(first["loc"])) from None


async def validate(session: AsyncSession, environment: Environment, data: PoolDefinitionPut) -> None:
    total = 0.0
    names: set[str] = set()
    owner: dict[str, int] = {}
    known = set((await session.exec(select(AIResource.id).where(
        AIResource.environment_id == environment.id))).all())
    for i, pool in enumerate(data.definition):
        where = f"definition[{i}]"
        if pool.name in names:
            raise Invalid(f"{where}.name: another pool is named {pool.name!r}", field=f"{where}.name")
        names.add(pool.name)
        if pool.min_reservation > pool.max_reservation:
            raise Invalid(f"{where}.minReservation: {pool.min_reservation} is above maxReservation "
                          f"{pool.max_reservation}", field=f"{where}.minReservation")
        total += pool.min_reservation
        for j, resource in enumerate(pool.resources):
            path = f"{where}.resources[{j}]"
            try:
                rid = uuid.UUID(resource)
            except ValueError:
                raise Invalid(f"{path}: {resource!r} is not an AI resource id", field=path) from None
            if rid not in known:
                raise Invalid(f"{path}: no AI resource {resource!r} in this environment", field=path)
            if str(rid) in owner:
                raise Invalid(f"{path}: resource {resource} is already in pool definition[{owner[str(rid)]}]",
                              field=path)
            owner[str(rid)] = i
    if total > 100:
        raise Invalid(f"definition: the minimum reservations add up to {total:g} %, more than 100 %",
                      field="definition")


async def get_definition(session: AsyncSession, environment: Environment) -> PoolDefinition:
    row = (await session.exec(select(PoolDefinition).where(
        PoolDefinition.environment_id == environment.id))).first()
    if row is None:
        raise not_found("pool definition")
    return row


async def put_definition(session: AsyncSession, *, environment: Environment, body: Any,
                         actor_id: uuid.UUID | None) -> PoolDefinition:
    data = parse_definition(body)
    await validate(session, environment, data)
    definition = [{**p.dump(), "resources": [str(uuid.UUID(r)) for r in p.resources]} for p in data.definition]
    row = (await session.exec(select(PoolDefinition).where(
        PoolDefinition.environment_id == environment.id))).first()
    if row is None:
        row = PoolDefinition(workspace_id=environment.workspace_id, environment_id=environment.id,
                             definition=definition, created_by=actor_id, updated_by=actor_id)
    else:
        row.definition, row.updated_at, row.updated_by = definition, utcnow(), actor_id
    session.add(row)
    await session.commit()
    await publish_change(kind="environment", id=environment.id, env_id=environment.id)
    return row


async def delete_definition(session: AsyncSession, *, environment: Environment) -> None:
    row = await get_definition(session, environment)
    await session.delete(row)
    await session.commit()
    await publish_change(kind="environment", id=environment.id, env_id=environment.id)


def to_public(row: PoolDefinition) -> PoolDefinitionPublic:
    return PoolDefinitionPublic(workspace_id=row.workspace_id, environment_id=row.environment_id,
                                definition=row.definition, created_at=row.created_at, updated_at=row.updated_at)


async def current_allocations(session: AsyncSession, environment: Environment) -> dict[str, list[str]]:
    """Per pool, its current share on each connection the gate applies to (one with a minute token
    limit), as the allocator last stored it: `{"batch": ["openai-prod: 35 % of 60,000 tokens/min"]}`."""
    row = (await session.exec(select(PoolDefinition).where(PoolDefinition.environment_id == environment.id))).first()
    if row is None:
        return {}
    pools = [Pool.of(p) for p in row.definition]
    out: dict[str, list[str]] = {p.name: [] for p in pools}
    conns = (await session.exec(select(AIConnection).where(AIConnection.environment_id == environment.id)
                                .order_by(AIConnection.name))).all()  # type: ignore[arg-type]
    prefix = get_settings().redis_key_prefix
    for conn in conns:
        minute = next((c.get("tokens") for c in conn.capacity or [] if c.get("enabled", True)
                       and c.get("period") == "minute" and c.get("tokens") and not c.get("dimension")), None)
        if not minute:
            continue
        try:
            stored = await counter_store().get_text(f"{prefix}pool:{{{environment.id}}}:{conn.id}:allocation")
        except CountersUnavailable:
            stored = None
        allocation = Allocation.from_json(orjson.loads(stored)) if stored else Allocation()
        for pool in pools:
            out[pool.name].append(f"{conn.name}: {allocation.percent(pool):g} % of {minute:,} tokens/min")
    return out
