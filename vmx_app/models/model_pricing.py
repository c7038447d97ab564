"""The model pricing catalog: USD per million tokens."""

from __future__ import annotations

from sqlmodel import Field, UniqueConstraint

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
