"""Batch completions (issue 14): a batch of requests run by the gateway's workers at a lower priority.

`completion_batch` carries the running totals (counts, tokens, cost) that each item's result adds to in
the same transaction as the result itself, so the totals never count an item twice. The item table is
also the durable queue: a worker claims PENDING items (or RUNNING ones whose lease expired) atomically
and writes the result only while it still holds the lease.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from vmx_app.models.base import JSONType, UTCDateTime, new_id, utcnow


class BatchStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


FINISHED = frozenset({BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.CANCELLED})


class CompletionBatch(SQLModel, table=True):
    __tablename__ = "completion_batch"
    __table_args__ = (Index("ix_completion_batch_env_time", "environment_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    workspace_id: uuid.UUID
    environment_id: uuid.UUID = Field(foreign_key="environments.id", ondelete="CASCADE")
    type: str = Field(max_length=16)  # sync | async | callback
    status: str = Field(default=BatchStatus.PENDING, max_length=16)
    # Who submitted it; items run as that caller (the API key's hash is the config cache's lookup key).
    api_key_id: uuid.UUID | None = None
    api_key_hash: str | None = Field(default=None, max_length=64)
    user_id: uuid.UUID | None = None
    capacity: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    callback: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    total_items: int = 0
    completed_items: int = 0
    failed_items: int = 0
    cancelled_items: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0  # USD, from the pricing catalog
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CompletionBatchItem(SQLModel, table=True):
    __tablename__ = "completion_batch_item"
    __table_args__ = (
        Index("ix_completion_batch_item_batch_seq", "batch_id", "seq"),
        # The claim's scan: what is due, oldest first.
        Index("ix_completion_batch_item_queue", "status", "available_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    batch_id: uuid.UUID = Field(foreign_key="completion_batch.id", ondelete="CASCADE")
    seq: int  # position in the submitted list
    resource_id: uuid.UUID
    resource_name: str = Field(max_length=100)
    endpoint: str = Field(default="chat", max_length=16)  # chat | responses | anthropic
    custom_id: str | None = Field(default=None, max_length=200)
    request: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    status: str = Field(default=BatchStatus.PENDING, max_length=16)
    status_code: int | None = None
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    error: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    request_id: str | None = Field(default=None, max_length=64)  # the audit row's request id
    attempts: int = 0
    total_tokens: int = 0
    cost: float = 0.0
    available_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
