"""The audit record the engine emits for every request, and the sink it hands it to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(slots=True)
class AuditRecord:
    """One completion request, success or failure (DESIGN §7). Field names follow request_audit."""

    request_id: str
    created_at: datetime
    workspace_id: str
    environment_id: str
    endpoint: str
    status_code: int
    stream: bool = False
    resource_id: str | None = None
    resource_name: str | None = None
    connection_id: str | None = None
    connection_name: str | None = None
    api_key_id: str | None = None
    api_key_name: str | None = None
    user_id: str | None = None
    batch_id: str | None = None  # the batch an item belongs to (issue 14)
    provider: str | None = None
    model: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    correlation_id: str | None = None
    source_ip: str | None = None
    request_metadata: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
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
    cost: dict[str, Any] | None = None
    request_payload: dict[str, Any] | None = None
    response_payload: dict[str, Any] | None = None


class AuditSink(Protocol):
    def submit(self, record: AuditRecord) -> None:
        """Accept a record without blocking the request (the sink batches and writes later)."""
