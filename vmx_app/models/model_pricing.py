"""The model pricing catalog: USD per million tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field as PydanticField
from sqlmodel import Field, UniqueConstraint

from vmx_app.gateway.config import CamelModel, ProviderType
from vmx_app.models.ai_connection import EchoedReadOnly
from vmx_app.models.base import IdMixin, TimestampsMixin


class ModelPricing(IdMixin, TimestampsMixin, table=True):
    __tablename__ = "model_pricing"
    __table_args__ = (UniqueConstraint("provider", "model"),)

    provider: str = Field(max_length=40, index=True)
    model: str = Field(max_length=200)
    input_per_million: float = Field(default=0.0, ge=0)
    output_per_million: float = Field(default=0.0, ge=0)
    cached_input_per_million: float | None = Field(default=None, ge=0)
    reasoning_per_million: float | None = Field(default=None, ge=0)
    currency: str = Field(default="USD", max_length=3)
    # Capabilities the gateway's conversions need (None: guessed from the model's name).
    reasoning: bool | None = Field(default=None)
    structured_output: bool | None = Field(default=None)


# ---- API schemas (camelCase JSON) ------------------------------------------------------------------

Price = Annotated[float, PydanticField(ge=0, le=1_000_000)]


class ModelPricingCreate(EchoedReadOnly):
    provider: ProviderType
    model: str = PydanticField(min_length=1, max_length=200)
    input_per_million: Price = 0.0
    output_per_million: Price = 0.0
    cached_input_per_million: Price | None = None
    reasoning_per_million: Price | None = None
    currency: Literal["USD"] = "USD"
    reasoning: bool | None = None
    structured_output: bool | None = None


class ModelPricingUpdate(EchoedReadOnly):
    provider: ProviderType | None = None
    model: str | None = PydanticField(default=None, min_length=1, max_length=200)
    input_per_million: Price | None = None
    output_per_million: Price | None = None
    cached_input_per_million: Price | None = None
    reasoning_per_million: Price | None = None
    currency: Literal["USD"] | None = None
    reasoning: bool | None = None
    structured_output: bool | None = None


class ModelPricingPublic(CamelModel):
    id: uuid.UUID
    provider: str
    model: str
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    reasoning_per_million: float | None = None
    currency: str
    reasoning: bool | None = None
    structured_output: bool | None = None
    created_at: datetime
    updated_at: datetime
    created_by: uuid.UUID | None = None
    updated_by: uuid.UUID | None = None
