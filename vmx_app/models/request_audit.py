"""One immutable row per completion request: the audit viewer's and dashboards' only source."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from vmx_app.models.base import JSONType, UTCDateTime, utcnow


class RequestAudit(SQLModel, table=True):
    __tablename__ = "request_audit"
    __table_args__ = (
        # (created_at, id): the audit list's keyset order, so a page is an index range, never a sort.
        Index("ix_request_audit_env_time", "environment_id", "created_at", "id"),
        Index("ix_request_audit_env_resource_time", "environment_id", "resource_id", "created_at"),
        Index("ix_request_audit_env_apikey_time", "environment_id", "api_key_id", "created_at"),
        Index("ix_request_audit_correlation", "environment_id", "correlation_id"),
        # Only batch items' rows: NULL for every other request, which then costs no index entry.
        Index("ix_request_audit_batch", "batch_id", postgresql_where=text("batch_id IS NOT NULL"),
              sqlite_where=text("batch_id IS NOT NULL")),
    )

    # (id, created_at): on Postgres the table is partitioned by month of created_at, and a partitioned
    # table's key must hold the partition key; SQLite uses the same key so both schemas match the model.
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, primary_key=True)
    request_id: str = Field(max_length=64)
    workspace_id: uuid.UUID
    environment_id: uuid.UUID
    resource_id: uuid.UUID | None = None
    connection_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    batch_id: uuid.UUID | None = None  # set on the rows of batch items (issue 14)
    resource_name: str | None = Field(default=None, max_length=100)
    connection_name: str | None = Field(default=None, max_length=100)
    api_key_name: str | None = Field(default=None, max_length=100)
    provider: str | None = Field(default=None, max_length=40)
    model: str | None = Field(default=None, max_length=200)
    endpoint: str = Field(max_length=40)  # chat.completions | responses | anthropic.messages
    stream: bool = False
    status_code: int
    error_type: str | None = Field(default=None, max_length=100)
    error_message: str | None = None
    correlation_id: str | None = Field(default=None, max_length=200)
    source_ip: str | None = Field(default=None, max_length=64)
    request_metadata: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    events: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    duration_ms: float = 0.0
    provider_duration_ms: float | None = None
    gate_duration_ms: float | None = None
    routing_duration_ms: float | None = None
    time_to_first_token_ms: float | None = None
    tokens_per_second: float | None = None
    cost: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    request_payload: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    response_payload: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
