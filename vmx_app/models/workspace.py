"""Workspaces, their members and their environments."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from pydantic import StringConstraints
from sqlmodel import Field, UniqueConstraint

from vmx_app.gateway.config import BudgetEntry, CamelModel
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin


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
    budgets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)  # DESIGN §10


# --- API schemas (camelCase JSON) -----------------------------------------------------------------

# Names appear in resource strings (`workspace:<ws>:environment:<env>:…`): no `:`, `*`, `?`, no
# control characters, no surrounding blanks.
NAME_PATTERN = r"^[^:*?\s\x00-\x1f](?:[^:*?\x00-\x1f]*[^:*?\s\x00-\x1f])?$"
EntityName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                              pattern=NAME_PATTERN)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
MemberRoleName = Literal["OWNER", "MEMBER"]


class WorkspaceCreate(CamelModel):
    name: EntityName
    description: Description | None = None


class WorkspaceUpdate(CamelModel):
    name: EntityName | None = None
    description: Description | None = None


class WorkspacePublic(CamelModel):
    id: uuid.UUID
    name: str
    description: str | None = None
    # The caller's membership; None for an admin looking at a workspace they are not in.
    member_role: str | None = None
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None

    @classmethod
    def of(cls, workspace: Workspace, member_role: str | None) -> WorkspacePublic:
        return cls(id=workspace.id, name=workspace.name, description=workspace.description,
                   member_role=member_role, created_at=workspace.created_at, updated_at=workspace.updated_at,
                   created_by=workspace.created_by)


class MemberAssign(CamelModel):
    user_ids: list[uuid.UUID] = PydanticField(min_length=1, max_length=1000)
    role: MemberRoleName = "MEMBER"


class MemberUnassign(CamelModel):
    user_ids: list[uuid.UUID] = PydanticField(min_length=1, max_length=1000)


class MemberRoleUpdate(CamelModel):
    role: MemberRoleName


class MemberPublic(CamelModel):
    user_id: uuid.UUID
    email: str
    name: str
    role: str
    created_at: datetime


class EnvironmentCreate(CamelModel):
    name: EntityName
    description: Description | None = None
    audit_store_payloads: bool = True
    audit_retention_days: int = PydanticField(default=90, ge=1, le=3650)
    budgets: list[BudgetEntry] = PydanticField(default_factory=list, max_length=20)


class EnvironmentUpdate(CamelModel):
    name: EntityName | None = None
    description: Description | None = None
    audit_store_payloads: bool | None = None
    audit_retention_days: int | None = PydanticField(default=None, ge=1, le=3650)
    budgets: list[BudgetEntry] | None = PydanticField(default=None, max_length=20)


class EnvironmentPublic(CamelModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str | None = None
    audit_store_payloads: bool
    audit_retention_days: int
    budgets: list[dict[str, Any]] = PydanticField(default_factory=list)
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None

    @classmethod
    def of(cls, env: Environment) -> EnvironmentPublic:
        return cls(id=env.id, workspace_id=env.workspace_id, name=env.name, description=env.description,
                   audit_store_payloads=env.audit_store_payloads,
                   audit_retention_days=env.audit_retention_days, budgets=list(env.budgets or []),
                   created_at=env.created_at,
                   updated_at=env.updated_at, created_by=env.created_by)
