"""The state of one completion request as the engine fills it in, and what comes out of it at the
end: the `x-vmx-*` response headers (DESIGN §4) and the audit record (DESIGN §7)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from vmx_app.gateway.audit import AuditRecord
from vmx_app.gateway.config import ApiKeySnapshot, CapacityEntry, ConnectionSnapshot, ResourceSnapshot
from vmx_app.gateway.errors import GatewayError
from vmx_app.gateway.types import Endpoint, Usage

PAYLOAD_CAP_BYTES = 64 * 1024
AUDIT_ENDPOINTS: dict[str, str] = {
    "chat": "chat.completions", "responses": "responses", "anthropic": "anthropic.messages",
}
PricingFn = Callable[[str, str, Usage], "dict[str, Any] | None"]


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def capped_payload(value: Any, size: int | None, cap: int = PAYLOAD_CAP_BYTES) -> dict[str, Any] | None:
    """The payload itself when it fits the cap, else a marker with a text preview (no row bloat)."""
    if value is None:
        return None
    if size is None:
        raw = orjson.dumps(value)
        size = len(raw)
        if size <= cap:
            return value if isinstance(value, dict) else {"value": value}
        return {"truncated": True, "bytes": size, "preview": raw[:cap].decode("utf-8", "replace")}
    if size <= cap:
        return value if isinstance(value, dict) else {"value": value}
    preview = orjson.dumps(value)[:cap].decode("utf-8", "replace")
    return {"truncated": True, "bytes": size, "preview": preview}


@dataclass(slots=True)
class RequestContext:
    request_id: str
    workspace_id: str
    environment_id: str
    endpoint: Endpoint
    source_ip: str | None = None
    started: float = field(default_factory=time.perf_counter)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stream: bool = False
    api_key: ApiKeySnapshot | None = None
    resource: ResourceSnapshot | None = None
    resource_name: str | None = None
    connection: ConnectionSnapshot | None = None
    provider: str | None = None
    model: str | None = None
    correlation_id: str | None = None
    metadata: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None
    gate_s: float = 0.0
    routing_s: float | None = None
    provider_s: float | None = None
    ttft_s: float | None = None
    request_payload: dict[str, Any] | None = None
    request_bytes: int | None = None
    response_payload: Any = None
    response_bytes: int | None = None
    status: int = 200
    error: GatewayError | None = None
    rate_headers: dict[str, str] | None = None  # x-ratelimit-* of the last gate decision
    batch_id: str | None = None  # a batch item's batch (issue 14)
    user_id: str | None = None  # the console user who submitted that batch
    batch_capacity: tuple[CapacityEntry, ...] = ()  # that batch's own limits

    # ---- events ---------------------------------------------------------------------------------

    def add_routing_event(self, original: Any, routed: Any, matched: str | None, reason: str) -> None:
        self.events.append({
            "type": "routing", "timestamp": _now_iso(),
            "originalProvider": original.provider, "originalModel": original.model,
            "routedProvider": routed.provider, "routedModel": routed.model,
            "matchedRoute": matched, "reason": reason,
        })

    def add_fallback_event(self, *, slot_label: str, provider: str, model: str, connection_id: str | None,
                           reason: str, status: int, message: str, attempts: int) -> None:
        self.events.append({
            "type": "fallback", "timestamp": _now_iso(), "slot": slot_label,
            "provider": provider, "model": model, "connectionId": connection_id,
            "failureReason": reason, "statusCode": status, "errorMessage": message[:500],
            "attempts": attempts,
        })

    def add_conversion_event(self, *, provider: str, model: str, note: str) -> None:
        """Something the client asked for that the model cannot take, left out (never silently)."""
        self.events.append({"type": "conversion", "timestamp": _now_iso(), "provider": provider,
                            "model": model, "note": note})

    # ---- outputs --------------------------------------------------------------------------------

    def headers(self) -> dict[str, str]:
        h = {"x-vmx-request-id": self.request_id}
        if self.resource_name:
            h["x-vmx-resource"] = header_safe(self.resource_name)  # the client's `model`, as sent
        if self.provider:
            h["x-vmx-provider"] = header_safe(self.provider)
        if self.model:
            h["x-vmx-model"] = header_safe(self.model)
        if self.connection is not None:
            h["x-vmx-connection-id"] = self.connection.id
        if self.correlation_id:
            h["x-vmx-correlation-id"] = header_safe(self.correlation_id)
        h["x-vmx-gate-duration-ms"] = f"{self.gate_s * 1000.0:.3f}"
        h["x-vmx-routing-duration-ms"] = f"{(self.routing_s or 0.0) * 1000.0:.3f}"
        h["x-vmx-event-count"] = str(len(self.events))
        if self.rate_headers:
            h.update(self.rate_headers)
        for i, ev in enumerate(self.events):
            p = f"x-vmx-event-{i}-"
            h[p + "type"] = ev["type"]
            if ev["type"] == "fallback":
                h[p + "fallback-failed-model"] = header_safe(ev["model"])
                h[p + "fallback-failed-provider"] = header_safe(ev["provider"])
                h[p + "fallback-failure-reason"] = ev["failureReason"]
                h[p + "fallback-status-code"] = str(ev["statusCode"])
            elif ev["type"] == "conversion":
                h[p + "conversion-model"] = header_safe(ev["model"])
                h[p + "conversion-note"] = header_safe(ev["note"])
            else:
                h[p + "routing-original-provider"] = header_safe(ev["originalProvider"])
                h[p + "routing-original-model"] = header_safe(ev["originalModel"])
                h[p + "routing-routed-provider"] = header_safe(ev["routedProvider"])
                h[p + "routing-routed-model"] = header_safe(ev["routedModel"])
        return h

    def audit_record(self, *, pricing: PricingFn | None, store_payloads: bool,
                     cap: int = PAYLOAD_CAP_BYTES) -> AuditRecord:
        duration = time.perf_counter() - self.started
        usage = self.usage or Usage()
        tps: float | None = None
        gen_s = None
        if self.provider_s is not None:
            gen_s = self.provider_s - (self.ttft_s or 0.0) if self.stream and self.ttft_s else self.provider_s
        if usage.output and gen_s and gen_s > 0:
            tps = round(usage.output / gen_s, 3)
        cost = None
        if pricing is not None and self.usage is not None and self.provider and self.model:
            cost = pricing(self.provider, self.model, usage)
        err = self.error
        key, res, conn = self.api_key, self.resource, self.connection
        return AuditRecord(
            request_id=self.request_id,
            created_at=self.created_at,
            workspace_id=self.workspace_id,
            environment_id=self.environment_id,
            endpoint=AUDIT_ENDPOINTS[self.endpoint],
            status_code=self.status,
            stream=self.stream,
            resource_id=res.id if res is not None else None,
            resource_name=(res.name if res is not None else self.resource_name),
            connection_id=conn.id if conn is not None else None,
            connection_name=conn.name if conn is not None else None,
            api_key_id=key.id if key is not None else None,
            api_key_name=key.name if key is not None else None,
            user_id=self.user_id or (key.user_id if key is not None else None),
            batch_id=self.batch_id,
            provider=self.provider,
            model=self.model,
            error_type=err.error_type if err is not None else None,
            error_message=err.message[:2000] if err is not None else None,
            correlation_id=self.correlation_id,
            source_ip=self.source_ip,
            request_metadata=self.metadata or None,
            events=self.events,
            prompt_tokens=usage.input,
            completion_tokens=usage.output,
            cached_tokens=usage.cached_input,
            reasoning_tokens=usage.reasoning,
            total_tokens=usage.total or usage.input + usage.output,
            duration_ms=_ms(duration),
            provider_duration_ms=_ms(self.provider_s) if self.provider_s is not None else None,
            gate_duration_ms=_ms(self.gate_s),
            routing_duration_ms=_ms(self.routing_s) if self.routing_s is not None else None,
            time_to_first_token_ms=_ms(self.ttft_s) if self.ttft_s is not None else None,
            tokens_per_second=tps,
            cost=cost,
            request_payload=capped_payload(self.request_payload, self.request_bytes, cap) if store_payloads else None,
            response_payload=(capped_payload(self.response_payload, self.response_bytes, cap)
                              if store_payloads else None),
        )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def header_safe(value: str) -> str:
    """Header values are printable ASCII: anything else (non-Latin-1 names, CR/LF, controls) is
    percent-encoded as UTF-8, as RFC 8187 does for parameters; `%` itself too, so it decodes back."""
    if value.isascii() and value.isprintable() and "%" not in value:
        return value
    return quote(value, safe=" !#$&'()*+,/:;=?@[]~")
