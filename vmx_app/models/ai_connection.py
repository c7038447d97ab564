"""AI connections: provider credentials (encrypted), capacity and allowed models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel
from sqlmodel import Field, UniqueConstraint

from vmx_app.gateway.config import CamelModel, CapacityEntry, ProviderType
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin
from vmx_app.models.workspace import EntityName


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
    # The last test of the current credentials: {ok, message, testedAt, models}; None = not tested since
    # they were set. The console says "ok" only from this, never from the secrets merely decrypting.
    last_test: dict[str, Any] | None = Field(default=None, sa_type=JSONType)


# ---- API schemas (camelCase JSON) ------------------------------------------------------------------

class EchoedReadOnly(CamelModel):
    """Read-only fields a client may send back unchanged from a GET (the console's JSON view round-trips
    the exact API shape): accepted and ignored, while unknown fields still fail."""

    id: Any = PydanticField(default=None, exclude=True)
    workspace_id: Any = PydanticField(default=None, exclude=True)
    environment_id: Any = PydanticField(default=None, exclude=True)
    created_at: Any = PydanticField(default=None, exclude=True)
    updated_at: Any = PydanticField(default=None, exclude=True)
    created_by: Any = PydanticField(default=None, exclude=True)
    updated_by: Any = PydanticField(default=None, exclude=True)


ModelName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AIConnectionCreate(EchoedReadOnly):
    name: EntityName  # the workspace name rule: it appears in resource strings
    description: str | None = PydanticField(default=None, max_length=500)
    provider: ProviderType
    config: dict[str, Any] = PydanticField(default_factory=dict)
    capacity: list[CapacityEntry] = PydanticField(default_factory=list)
    allowed_models: list[ModelName] = PydanticField(default_factory=list)
    discovered_capacity: Any = PydanticField(default=None, exclude=True)  # read-only: ignored
    credentials_status: Any = PydanticField(default=None, exclude=True)  # read-only: ignored
    last_test: Any = PydanticField(default=None, exclude=True)  # read-only: ignored


class AIConnectionUpdate(EchoedReadOnly):
    """Partial update: fields left out keep their value; a masked secret keeps the stored one."""

    name: EntityName | None = None
    description: str | None = PydanticField(default=None, max_length=500)
    provider: ProviderType | None = None
    config: dict[str, Any] | None = None
    capacity: list[CapacityEntry] | None = None
    allowed_models: list[ModelName] | None = None
    discovered_capacity: Any = PydanticField(default=None, exclude=True)  # read-only: ignored
    credentials_status: Any = PydanticField(default=None, exclude=True)  # read-only: ignored
    last_test: Any = PydanticField(default=None, exclude=True)  # read-only: ignored


class AIConnectionPublic(CamelModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    name: str
    description: str | None = None
    provider: str
    config: dict[str, Any]  # secret fields masked as "********"
    capacity: list[dict[str, Any]]
    allowed_models: list[str]
    discovered_capacity: dict[str, Any]
    # "ok", or "unreadable" when the stored secrets no longer decrypt (wrong key, tampered or moved data).
    credentials_status: str = "ok"
    # The last test of the current credentials: {ok, message, testedAt, models}; null = not tested since set.
    last_test: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None


class AIConnectionTest(CamelModel):
    """Body of the "test connection" actions: an unsaved provider/config (the console's form as it is).
    Other form fields may come along and are ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    provider: ProviderType | None = None
    config: dict[str, Any] | None = None
