"""Environments: the isolation layer inside a workspace."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from vmx_app.errors import Conflict
from vmx_app.models import Environment, Workspace
from vmx_app.models.workspace import EnvironmentCreate, EnvironmentUpdate
from vmx_app.services.config_events import publish_change


async def list_environments(session: AsyncSession, *, workspace: Workspace, offset: int,
                            limit: int) -> tuple[list[Environment], int]:
    where = Environment.workspace_id == workspace.id
    total = (await session.exec(select(func.count()).select_from(Environment).where(where))).one()
    rows = list((await session.exec(
        select(Environment).where(where).order_by(col(Environment.name)).offset(offset).limit(limit))).all())
    return rows, total


async def _name_taken(session: AsyncSession, workspace_id: uuid.UUID, name: str,
                      except_id: uuid.UUID | None = None) -> bool:
    stmt = select(Environment.id).where(Environment.workspace_id == workspace_id,
                                        func.lower(Environment.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(Environment.id != except_id)
    return (await session.exec(stmt)).first() is not None


async def create_environment(session: AsyncSession, *, workspace: Workspace, data: EnvironmentCreate,
                             actor_id: uuid.UUID) -> Environment:
    if await _name_taken(session, workspace.id, data.name):
        raise Conflict("An environment with this name already exists in the workspace",
                       details=[{"field": "name", "message": "taken"}])
    env = Environment(workspace_id=workspace.id, name=data.name, description=data.description,
                      audit_store_payloads=data.audit_store_payloads,
                      audit_retention_days=data.audit_retention_days,
                      budgets=[b.dump() for b in data.budgets], created_by=actor_id, updated_by=actor_id)
    session.add(env)
    await session.flush()
    return env


async def update_environment(session: AsyncSession, *, env: Environment, data: EnvironmentUpdate,
                             actor_id: uuid.UUID) -> Environment:
    if data.name is not None and data.name != env.name:
        if await _name_taken(session, env.workspace_id, data.name, env.id):
            raise Conflict("An environment with this name already exists in the workspace",
                           details=[{"field": "name", "message": "taken"}])
        env.name = data.name
    if "description" in data.model_fields_set:
        env.description = data.description
    if data.audit_store_payloads is not None:
        env.audit_store_payloads = data.audit_store_payloads
    if data.audit_retention_days is not None:
        env.audit_retention_days = data.audit_retention_days
    if data.budgets is not None:
        env.budgets = [b.dump() for b in data.budgets]
    env.updated_at = datetime.now(UTC)
    env.updated_by = actor_id
    session.add(env)
    await session.commit()  # before the event, so no gateway reloads the old row
    await publish_change(kind="environment", id=env.id, env_id=env.id)
    return env


async def delete_environment(session: AsyncSession, *, env: Environment) -> None:
    await session.delete(env)  # its connections, resources and keys go with it (ON DELETE CASCADE)
    await session.commit()
    await publish_change(kind="environment", id=env.id, env_id=env.id)
