"""AI resources: the logical endpoints applications call by name."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import Field as PydanticField
from pydantic import StringConstraints, ValidationInfo, field_validator
from sqlmodel import Field, UniqueConstraint

from vmx_app.gateway.config import BudgetEntry, CamelModel, CapacityEntry, ModelSlot, RoutingConfig
from vmx_app.json_limits import json_depth
from vmx_app.models.ai_connection import EchoedReadOnly
from vmx_app.models.base import IdMixin, JSONType, TimestampsMixin
from vmx_app.settings import get_settings

log = logging.getLogger("vmx.resources")


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
    budgets: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    # May a request patch this resource through `vmx.resourceConfigOverrides` (DESIGN §11)?
    allow_overrides: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


# ---- API schemas (camelCase JSON) ------------------------------------------------------------------

# The resource name is what clients send as `model`: no whitespace; and it appears in resource strings
# (`…:ai-resource:<name>`), so no `:`, `*`, `?` either (the workspace name rule).
RESOURCE_NAME_PATTERN = r"^[^:*?\s]+$"
ResourceName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=RESOURCE_NAME_PATTERN)]


def _bounded_default_args(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The console writes through the same models as the API: no nesting past VMX_MAX_JSON_DEPTH."""
    limit = get_settings().vmx_max_json_depth
    if value is not None and json_depth(value) > limit:
        raise ValueError(f"defaultArgs nest deeper than {limit} levels (VMX_MAX_JSON_DEPTH)")
    return value


class AIResourceCreate(EchoedReadOnly):
    name: ResourceName
    description: str | None = PydanticField(default=None, max_length=500)
    model: ModelSlot
    secondary_models: list[ModelSlot] = PydanticField(default_factory=list)
    use_fallback: bool = False
    fallback_models: list[ModelSlot] = PydanticField(default_factory=list)
    routing: RoutingConfig | None = None
    capacity: list[CapacityEntry] = PydanticField(default_factory=list)
    enforce_capacity: bool = False
    default_args: dict[str, Any] = PydanticField(default_factory=dict)
    budgets: list[BudgetEntry] = PydanticField(default_factory=list, max_length=20)
    allow_overrides: bool = True
    # Write-only: appends this resource's id to those API keys' `resources`.
    assign_api_keys: list[uuid.UUID] = PydanticField(default_factory=list)

    _default_args_depth = field_validator("default_args")(_bounded_default_args)


class AIResourceUpdate(EchoedReadOnly):
    """Partial update: fields left out keep their value."""

    name: ResourceName | None = None
    description: str | None = PydanticField(default=None, max_length=500)
    model: ModelSlot | None = None
    secondary_models: list[ModelSlot] | None = None
    use_fallback: bool | None = None
    fallback_models: list[ModelSlot] | None = None
    routing: RoutingConfig | None = None
    capacity: list[CapacityEntry] | None = None
    enforce_capacity: bool | None = None
    default_args: dict[str, Any] | None = None
    budgets: list[BudgetEntry] | None = PydanticField(default=None, max_length=20)
    allow_overrides: bool | None = None
    assign_api_keys: list[uuid.UUID] | None = None

    _default_args_depth = field_validator("default_args")(_bounded_default_args)


class AIResourcePublic(CamelModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    name: str
    description: str | None = None
    model: dict[str, Any]
    secondary_models: list[dict[str, Any]]
    use_fallback: bool
    fallback_models: list[dict[str, Any]]
    routing: dict[str, Any] | None = None
    capacity: list[dict[str, Any]]
    enforce_capacity: bool
    default_args: dict[str, Any]
    budgets: list[dict[str, Any]] = PydanticField(default_factory=list)
    allow_overrides: bool = True
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None

    @field_validator("default_args", mode="before")
    @classmethod
    def _readable_default_args(cls, value: Any, info: ValidationInfo) -> Any:
        # A row stored before the depth limit existed must not break every list of its environment:
        # it is shown as `{}` (saving the resource again replaces it) and logged.
        if isinstance(value, dict) and json_depth(value) > get_settings().vmx_max_json_depth:
            log.warning("AI resource %s: stored defaultArgs nest too deep; shown as {}", info.data.get("name"))
            return {}
        return value


class RoutingTestRequest(CamelModel):
    """`POST …/{id}/routing-test`: a sample completion body (its `vmx` envelope included), the endpoint it
    would be sent to (inferred from its shape when absent), the calling key's name for `apiKeyName`
    rules, and optionally an unsaved `routing` to try before saving it."""

    request: dict[str, Any]
    endpoint: Literal["chat", "responses", "anthropic"] | None = None
    api_key_name: str | None = None
    routing: RoutingConfig | None = None
