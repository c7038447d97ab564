"""API keys: stored as SHA-256, shown once."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, UniqueConstraint

from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin, UTCDateTime


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
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
