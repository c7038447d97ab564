"""AI connections: provider credentials (encrypted), capacity and allowed models."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Field, UniqueConstraint

from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin


class AIConnection(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "ai_connections"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    environment_id: uuid.UUID = Field(foreign_key="environments.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    provider: str = Field(max_length=40)
    # Non-secret config fields in clear; secret fields replaced by vault tokens.
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    capacity: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    allowed_models: list[str] = Field(default_factory=list, sa_type=JSONType)
    discovered_capacity: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
