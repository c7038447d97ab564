"""Roles with policy documents, and which users hold them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field as PydanticField
from pydantic import StringConstraints
from sqlmodel import Field, SQLModel, UniqueConstraint

from vmx_app.gateway.config import CamelModel
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin
from vmx_app.models.policy_document import PolicyDocument


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


# --- API schemas (camelCase JSON) -----------------------------------------------------------------

# Role names appear in `role:<name>` resource strings: no separators or wildcards.
ROLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
RoleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                            pattern=ROLE_NAME_PATTERN)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class RoleCreate(CamelModel):
    name: RoleName
    description: Description | None = None
    policy: PolicyDocument


class RoleUpdate(CamelModel):
    name: RoleName | None = None
    description: Description | None = None
    policy: PolicyDocument | None = None


class RolePublic(CamelModel):
    id: uuid.UUID
    name: str
    description: str | None = None
    policy: dict[str, Any]
    is_system: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, role: Role) -> RolePublic:
        return cls(id=role.id, name=role.name, description=role.description, policy=role.policy,
                   is_system=role.is_system, created_at=role.created_at, updated_at=role.updated_at)


class UserIdsRequest(CamelModel):
    user_ids: list[uuid.UUID] = PydanticField(min_length=1, max_length=1000)
