"""Prioritization pool definitions, one per environment."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field as PydanticField
from sqlmodel import Field

from vmx_app.gateway.config import CamelModel, PoolConfig
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin


class PoolDefinition(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "pool_definitions"

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    environment_id: uuid.UUID = Field(foreign_key="environments.id", unique=True, ondelete="CASCADE")
    # [{name, rank, minReservation, maxReservation, resources: [resourceId]}]
    definition: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)


# ---- API schemas (camelCase JSON) ------------------------------------------------------------------


class PoolDefinitionPut(CamelModel):
    definition: list[PoolConfig] = PydanticField(max_length=100)


class PoolDefinitionPublic(CamelModel):
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    definition: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
