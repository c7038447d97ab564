"""Roles with policy documents, and which users hold them."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Field, SQLModel, UniqueConstraint

from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin


class Role(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "roles"

    name: str = Field(max_length=100, unique=True, index=True)
    description: str | None = Field(default=None, max_length=500)
    policy: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    is_system: bool = Field(default=False)


class RoleAssignment(SQLModel, table=True):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("role_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    role_id: uuid.UUID = Field(foreign_key="roles.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
