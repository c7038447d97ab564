"""Prioritization pool definitions (`/v1/pool-definition/{ws}/{env}`, DESIGN §6): one per environment,
validated as a whole (400 naming the field), published so every gateway process reloads it."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Invalid, not_found
from vmx_app.models import AIResource, Environment
from vmx_app.models.base import utcnow
from vmx_app.models.pool_definition import PoolDefinition, PoolDefinitionPublic, PoolDefinitionPut
from vmx_app.services.config_events import publish_change


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
