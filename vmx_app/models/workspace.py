"""Workspaces, their members and their environments."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlmodel import Field, UniqueConstraint

from vmx_app.models.base import IdMixin, TimestampsMixin


class MemberRole(StrEnum):
    OWNER = "OWNER"
    MEMBER = "MEMBER"


class Workspace(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "workspaces"

    name: str = Field(max_length=100, index=True)
    description: str | None = Field(default=None, max_length=500)


class WorkspaceMember(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: str = Field(default=MemberRole.MEMBER.value, max_length=10)


class Environment(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    # Audit settings (DESIGN §7): payload capture can be turned off, rows expire after the retention.
    audit_store_payloads: bool = Field(default=True)
    audit_retention_days: int = Field(default=90)
