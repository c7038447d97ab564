"""AI resources: the logical endpoints applications call by name."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Field, UniqueConstraint

from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin


class AIResource(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "ai_resources"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    environment_id: uuid.UUID = Field(foreign_key="environments.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    # Model slots are stored in their camelCase API shape with connectionId resolved.
    model: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    secondary_models: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    use_fallback: bool = Field(default=False)
    fallback_models: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    routing: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    capacity: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    enforce_capacity: bool = Field(default=False)
    default_args: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
