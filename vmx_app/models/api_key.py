"""API keys: stored as SHA-256, shown once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, StringConstraints
from pydantic import Field as PydanticField
from sqlmodel import Field, UniqueConstraint

from vmx_app.gateway.config import BudgetEntry, CamelModel, CapacityEntry
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin, UTCDateTime
from vmx_app.models.workspace import Description, EntityName


class ApiKey(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    workspace_id: uuid.UUID = Field(foreign_key="workspaces.id", index=True, ondelete="CASCADE")
    environment_id: uuid.UUID = Field(foreign_key="environments.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    masked_key: str = Field(max_length=80)
    enabled: bool = Field(default=True)
    resources: list[str] = Field(default_factory=list, sa_type=JSONType)
    labels: list[str] = Field(default_factory=list, sa_type=JSONType)
    capacity: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    enforce_capacity: bool = Field(default=False)
    budgets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- API schemas (camelCase JSON) -----------------------------------------------------------------

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyCreate(CamelModel):
    name: EntityName
    description: Description | None = None
    enabled: bool = True
    # AI resource ids of this environment; empty = every resource of the environment.
    resources: list[uuid.UUID] = PydanticField(default_factory=list, max_length=1000)
    labels: list[Label] = PydanticField(default_factory=list, max_length=50)
    capacity: list[CapacityEntry] = PydanticField(default_factory=list, max_length=20)
    enforce_capacity: bool = False
    budgets: list[BudgetEntry] = PydanticField(default_factory=list, max_length=20)
    expires_at: AwareDatetime | None = None


class ApiKeyUpdate(CamelModel):
    """Partial update: absent fields are kept; `expiresAt: null` removes the expiry."""

    name: EntityName | None = None
    description: Description | None = None
    enabled: bool | None = None
    resources: list[uuid.UUID] | None = PydanticField(default=None, max_length=1000)
    labels: list[Label] | None = PydanticField(default=None, max_length=50)
    capacity: list[CapacityEntry] | None = PydanticField(default=None, max_length=20)
    enforce_capacity: bool | None = None
    budgets: list[BudgetEntry] | None = PydanticField(default=None, max_length=20)
    expires_at: AwareDatetime | None = None


class ApiKeyPublic(CamelModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    name: str
    description: str | None = None
    masked_key: str
    enabled: bool
    resources: list[str]
    labels: list[str]
    capacity: list[dict[str, Any]]
    enforce_capacity: bool
    budgets: list[dict[str, Any]] = PydanticField(default_factory=list)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyPublic:
        return cls(id=key.id, workspace_id=key.workspace_id, environment_id=key.environment_id, name=key.name,
                   description=key.description, masked_key=key.masked_key, enabled=key.enabled,
                   resources=list(key.resources or []), labels=list(key.labels or []),
                   capacity=list(key.capacity or []), enforce_capacity=key.enforce_capacity,
                   budgets=list(key.budgets or []),
                   expires_at=key.expires_at, last_used_at=key.last_used_at, created_at=key.created_at,
                   updated_at=key.updated_at, created_by=key.created_by)


class ApiKeyCreated(ApiKeyPublic):
    """The create response: the only time the key itself is shown."""

    api_key_value: str
