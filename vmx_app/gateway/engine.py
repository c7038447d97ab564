"""The gateway engine: one completion request from API key to audit record (DESIGN §2, §4, §5).

Pure orchestration over injected parts (config source, gate, adapters, audit sink, counters):
no web framework, no database. The API layer turns a `GatewayResponse` into an HTTP response.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from vmx_app.gateway.audit import AuditRecord
from vmx_app.gateway.body import parse_body
from vmx_app.gateway.config import ApiKeySnapshot, CapacityEntry, ConnectionSnapshot, ModelSlot, ResourceSnapshot
from vmx_app.gateway.context import RequestContext
from vmx_app.gateway.deps import EngineDeps
from vmx_app.gateway.dispatch import GENAI_SYSTEM, check_body, client_wants_usage
from vmx_app.gateway.errors import GateHold, GatewayError, bad_request, error_body
from vmx_app.gateway.fallback import Leg, SecondaryModelIndexError, deadline_from, plan_legs
from vmx_app.gateway.ids import new_request_id
from vmx_app.gateway.leg_spans import end_provider_span, start_span
from vmx_app.gateway.legs import CallState, LegResult, run_legs
from vmx_app.gateway.merge import EnvelopeError, VmxEnvelope, apply_overrides, merge_request, split_vmx_envelope
from vmx_app.gateway.routing import evaluate_routing, routing_input_from_body
from vmx_app.gateway.stream import StreamBridge
from vmx_app.gateway.types import Endpoint

log = logging.getLogger("vmx.gateway")
_W3C = TraceContextTextMapPropagator()
JSON = "application/json"
MAX_RESOURCE_NAME = 100
OVERRIDES_ANY = "overrides:any"  # API-key label: overrides may name any connection of the environment
SSE = "text/event-stream"


@dataclass(slots=True)
class GatewayRequest:
    workspace_id: str
    environment_id: str
    endpoint: Endpoint
    body: bytes | None  # None when the body exceeded the size limit
    key_hash: str | None  # SHA-256 hex of the API key, None when the request carried none
    source_ip: str | None = None
    anthropic_beta: str | None = None
    body_limit: int = 0  # for the 413 message
    # A batch item (issue 14): its batch, and the console user who submitted it without an API key.
    batch_id: str | None = None
    user_id: str | None = None
    batch_capacity: tuple[CapacityEntry, ...] = ()  # the batch's own limits (the gate counts them per batch)
    max_json_depth: int = 64  # deeper bodies are refused: they could not be forwarded nor audited
    traceparent: str | None = None  # the client's W3C trace context: our spans join its trace


@dataclass(slots=True)
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    media_type: str = JSON
    record: AuditRecord | None = None  # the audit record of a non-streamed answer (batch totals read it)
    upstream_headers: Mapping[str, str] | None = None  # batch items: the provider's rate-limit headroom
    hold: GateHold | None = None  # the capacity gate held the request back (batch items wait for room)


class Engine:
    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps

    # ---- completion -------------------------------------------------------------------------------

    async def complete(self, req: GatewayRequest) -> GatewayResponse:
        ctx = RequestContext(new_request_id(), req.workspace_id, req.environment_id, req.endpoint, req.source_ip,
                             batch_id=req.batch_id, user_id=req.user_id, batch_capacity=req.batch_capacity)
        span = self._request_span(ctx, req.traceparent)
        try:
            return await self._complete(ctx, req, span)
        except GatewayError as err:
            return self._failure(ctx, err, span)
        except Exception as exc:  # a bug must still answer in the endpoint's shape, and be audited
            log.exception("completion %s failed unexpectedly", ctx.request_id)
            return self._failure(ctx, GatewayError(500, f"internal error: {type(exc).__name__}",
                                                   code="internal_error", type="server_error"), span)

    async def _complete(self, ctx: RequestContext, req: GatewayRequest, span: Any) -> GatewayResponse:
        trace_ctx = trace.set_span_in_context(span) if span is not None else None
        auth_span = self.deps.tracer.start_span("vmx.auth", context=trace_ctx) if trace_ctx is not None else None
        try:
            key = await self.authenticate(ctx, req)
        finally:
            if auth_span is not None:
                auth_span.end()
        body = parse_body(req)
        resource = await self.resolve_resource(ctx, key, body)
        try:
            body, envelope = split_vmx_envelope(body)
        except EnvelopeError as exc:
            raise bad_request(str(exc), param=exc.field) from None
        ctx.correlation_id = envelope.correlation_id
        ctx.metadata = envelope.metadata or None
        if envelope.resource_config_overrides:
            resource = await self._override(resource, envelope.resource_config_overrides, key)
        if resource.default_args or envelope.provider_args:
            merged = merge_request(resource.default_args, body, envelope.provider_args)
        else:
            merged = body
        check_body(ctx.endpoint, merged)
        ctx.stream = merged.get("stream") is True
        ctx.request_payload, ctx.request_bytes = merged, (len(req.body or b"") if merged is body else None)
        st = CallState(ctx, ctx.endpoint, resource, merged, ctx.stream, deadline_from(envelope.timeout_ms,
                       self.deps.clock()), {"anthropic-beta": req.anthropic_beta} if req.anthropic_beta else None,
                       drop_usage_chunk=ctx.stream and not client_wants_usage(ctx.endpoint, merged),
                       assemble=ctx.stream and self.deps.store_payloads(ctx.environment_id), trace=trace_ctx)
        if self.deps.gate_active:  # environment budgets (an in-memory cache hit after the first request)
            st.environment = await self.deps.config.get_environment(ctx.environment_id)
        legs = self._plan(ctx, st, key, envelope)
        result = await run_legs(self.deps, st, legs)
        ctx.connection = result.connection
        ctx.provider = result.connection.provider
        ctx.model = result.leg.slot.model
        if result.bridge is not None:
            return self._stream_response(ctx, st, result, span)
        ctx.usage = result.usage
        ctx.response_payload, ctx.response_bytes = result.payload, len(result.body)
        record = self._finish(ctx, span)
        return GatewayResponse(200, ctx.headers(), result.body, record=record,
                               upstream_headers=result.upstream_headers if ctx.batch_id is not None else None)

    async def authenticate(self, ctx: RequestContext, req: GatewayRequest) -> ApiKeySnapshot | None:
        """The request's API key; 401 without one. A key of another environment is not resolved.
        None only for a batch item a console user submitted (authorized when the batch was accepted).

        Ids that name no environment answer 404 instead: a mistyped URL then says so rather than
        blaming a good key. The environment is looked up only on this failure path."""
        if not req.key_hash and req.batch_id and req.user_id:
            return None
        if not req.key_hash:
            await self._check_environment(req)
            raise GatewayError(401, "missing API key: send `Authorization: Bearer <key>` or `x-api-key`",
                               code="invalid_api_key", type="authentication_error")
        key = await self.deps.config.get_api_key_by_hash(req.key_hash)
        if key is None or key.environment_id != req.environment_id or key.workspace_id != req.workspace_id:
            await self._check_environment(req)
            raise GatewayError(401, "invalid API key", code="invalid_api_key", type="authentication_error")
        ctx.api_key = key  # from here on every outcome is audited
        if not key.enabled:
            raise GatewayError(401, "API key is disabled", code="invalid_api_key", type="authentication_error")
        if key.expires_at is not None and key.expires_at <= time.time():
            raise GatewayError(401, "API key has expired", code="invalid_api_key", type="authentication_error")
        return key

    async def _check_environment(self, req: GatewayRequest) -> None:
        if not await self.deps.config.environment_exists(req.workspace_id, req.environment_id):
            raise GatewayError(404, f"environment not found: no environment {req.environment_id} in workspace "
                               f"{req.workspace_id}", code="environment_not_found", type="not_found_error")

    async def resolve_resource(self, ctx: RequestContext, key: ApiKeySnapshot | None,
                               body: dict[str, Any]) -> ResourceSnapshot:
        name = body.get("model")
        if not isinstance(name, str) or not name:
            check_body(ctx.endpoint, body)  # raises the precise 400
            raise bad_request("`model` is required", param="model")
        ctx.resource_name = name
        # A name no resource can have (NUL, over 100 characters) is not looked up: the database
        # would refuse the query, not answer "none".
        resource = None if "\x00" in name or len(name) > MAX_RESOURCE_NAME else \
            await self.deps.config.get_resource(ctx.environment_id, name)
        if resource is None or resource.workspace_id != ctx.workspace_id:
            raise GatewayError(404, f"AI resource {name!r} not found in this environment", code="model_not_found",
                               type="not_found_error", param="model")
        ctx.resource = resource
        if key is not None and key.resources and resource.id not in key.resources:
            raise GatewayError(403, f"API key is not allowed to use AI resource {name!r}",
                               code="api_key_resource_not_authorized", type="permission_error")
        return resource

    async def _override(self, resource: ResourceSnapshot, overrides: dict[str, Any],
                        key: ApiKeySnapshot | None) -> ResourceSnapshot:
        """`vmx.resourceConfigOverrides` merged in, every changed slot's connection resolved and allowed
        (400 naming the slot): the resource must allow overrides, and a slot may only name a connection
        the resource already uses unless the key carries the label `overrides:any` (DESIGN §11)."""
        prefix = "vmx.resourceConfigOverrides"
        if not resource.allow_overrides:
            raise bad_request(f"{prefix}: AI resource {resource.name!r} does not allow overrides", param=prefix)
        try:
            patched = apply_overrides(resource, overrides, prefix)
        except EnvelopeError as exc:
            raise bad_request(str(exc), param=exc.field) from None
        before = dict(resource_slots(resource))
        used = {s.connection_id for _, s in before.items() if s.connection_id}
        any_connection = key is not None and OVERRIDES_ANY in key.labels
        for path, slot in resource_slots(patched):
            old = before.get(path)
            if old is not None and (old.connection_id, old.connection_name) == (slot.connection_id,
                                                                                slot.connection_name):
                continue  # the resource's own connection: nothing widened
            where = f"{prefix}.{path}"
            conn = await self._override_connection(resource.environment_id, slot, where)
            if not any_connection and conn.id not in used:
                raise bad_request(f"{where}: connection {conn.name!r} is not used by AI resource {resource.name!r} "
                                  f"(an API key labelled {OVERRIDES_ANY!r} may name any)", param=where)
            slot.connection_id = conn.id  # a fresh copy made by apply_overrides: the cache is untouched
        return patched

    async def _override_connection(self, environment_id: str, slot: ModelSlot, where: str) -> ConnectionSnapshot:
        """The connection an overridden slot names, in this environment; 400 naming the slot otherwise."""
        config = self.deps.config
        if slot.connection_id:
            try:
                conn = await config.get_connection(slot.connection_id)
            except Exception:  # noqa: BLE001 - e.g. credentials that no longer decrypt
                raise bad_request(f"{where}.connectionId: connection {slot.connection_id!r} is unusable",
                                  param=f"{where}.connectionId") from None
            if conn is None or conn.environment_id != environment_id:
                raise bad_request(f"{where}.connectionId: unknown connection {slot.connection_id!r}",
                                  param=f"{where}.connectionId")
            return conn
        name = slot.connection_name or ""
        conn = None if "\x00" in name else await config.get_connection_by_name(environment_id, name)
        if conn is None:
            raise bad_request(f"{where}.connectionName: unknown connection {slot.connection_name!r}",
                              param=f"{where}.connectionName")
        return conn

    def _plan(self, ctx: RequestContext, st: CallState, key: ApiKeySnapshot | None,
              envelope: VmxEnvelope) -> list[Leg]:
        resource = st.resource
        if envelope.secondary_model_index is not None:
            try:
                return plan_legs(resource, None, envelope.secondary_model_index)
            except SecondaryModelIndexError as exc:
                raise bad_request(str(exc), param=exc.field) from None
        routing = resource.routing
        if routing is None or not routing.enabled or not routing.conditions:
            return plan_legs(resource, None, None)
        t = time.perf_counter()
        span = self.deps.tracer.start_span("vmx.routing", context=st.trace) if st.trace is not None else None
        primary = resource.model
        key_name = key.name if key is not None else None
        inp = routing_input_from_body(st.merged, ctx.endpoint, envelope.metadata, key_name,
                                      request_tokens=st.tokens())
        decision = evaluate_routing(routing, inp, self.deps.primary_error_rate(resource), self.deps.rand)
        ctx.routing_s = time.perf_counter() - t
        if span is not None:
            span.set_attribute("vmx.routing.action", decision.action)
            if decision.condition_index is not None:
                span.set_attribute("vmx.routing.condition", decision.condition_index)
            span.end()
        if decision.block:
            what = decision.description or f"routing.conditions[{decision.condition_index}]"
            raise GatewayError(400, f"request blocked by routing condition: {what}",
                               code="blocked_by_routing_condition", type="invalid_request_error")
        if decision.action == "route" and decision.slot is not None:
            ctx.add_routing_event(primary, decision.slot, decision.description or decision.label, decision.reason)
        return plan_legs(resource, decision, None)

    # ---- outcomes ---------------------------------------------------------------------------------

    def _stream_response(self, ctx: RequestContext, st: CallState, result: LegResult, span: Any) -> GatewayResponse:
        bridge = result.bridge
        assert bridge is not None
        ctx.ttft_s = time.perf_counter() - ctx.started
        deps = self.deps
        rate_key = (st.resource.id, result.connection.id, result.leg.slot.model)
        breaker_key = (result.connection.id, result.leg.slot.model)
        stream_span = start_span(deps, st, "vmx.stream", {"gen_ai.request.model": result.leg.slot.model})

        def done(b: StreamBridge, exc: BaseException | None) -> None:
            ctx.provider_s = time.perf_counter() - result.provider_started
            ctx.usage = b.usage
            ctx.response_payload = b.final_response()
            if b.failure is not None:
                status, message, etype = b.failure
                ctx.status = status
                ctx.error = GatewayError(status, message, code=etype or "stream_error")
                deps.error_rates.record(rate_key, status, deps.wall())
                deps.breaker.record_failure(breaker_key, deps.clock())
            elif exc is not None or not b.completed:
                ctx.status = 499  # the client went away before the end
                ctx.error = GatewayError(499, "client closed the stream", code="client_closed")
            else:
                deps.error_rates.record(rate_key, 200, deps.wall())
                deps.breaker.record_success(breaker_key, deps.clock())
            end_provider_span(result.span, result.leg.slot.model, b.usage, ctx.status)
            end_provider_span(stream_span, None, None, ctx.status)
            if deps.gate_active:  # a stream settles at its end, or when the client leaves
                failed = b.failure is not None or exc is not None or not b.completed
                _spawn(deps.gate.settle(result.gate_ctx, result.gate, b.usage, failed=failed and b.usage is None))
            self._finish(ctx, span)

        return GatewayResponse(200, ctx.headers(), stream=bridge.rest(done, result.first), media_type=SSE)

    def _failure(self, ctx: RequestContext, err: GatewayError, span: Any) -> GatewayResponse:
        ctx.status = err.status
        ctx.error = err
        headers = ctx.headers()
        headers.update(err.headers)
        record = None
        if ctx.api_key is not None or ctx.batch_id is not None:
            record = self._finish(ctx, span)
        elif span is not None:
            span.end()
        return GatewayResponse(err.status, headers, error_body(ctx.endpoint, err), record=record, hold=err.hold)

    def _finish(self, ctx: RequestContext, span: Any) -> AuditRecord | None:
        deps = self.deps
        if span is not None:
            _end_request_span(span, ctx)
        record = None
        try:
            record = ctx.audit_record(pricing=deps.pricing, store_payloads=deps.store_payloads(ctx.environment_id),
                                      cap=deps.payload_cap_bytes)
            deps.audit.submit(record)
        except Exception:  # noqa: BLE001 - auditing must not turn an answered request into an error
            log.exception("audit record for %s could not be queued; kept without payloads", ctx.request_id)
            # Every answered request has its row: without the client's payloads and metadata.
            ctx.metadata = ctx.request_payload = ctx.response_payload = None
            try:
                record = ctx.audit_record(pricing=None, store_payloads=False)
                deps.audit.submit(record)
            except Exception:  # noqa: BLE001
                log.exception("audit record for %s could not be queued", ctx.request_id)
                return None
        if deps.observe is not None:  # metrics and the log line, from the same record
            deps.observe(record, span)
        return record

    def _request_span(self, ctx: RequestContext, traceparent: str | None) -> Any:
        tracer = self.deps.tracer
        if tracer is None:
            return None
        parent = _W3C.extract({"traceparent": traceparent}) if traceparent else None
        span = tracer.start_span("vmx.completion", context=parent, kind=trace.SpanKind.SERVER, attributes={
            "vmx.request.id": ctx.request_id, "vmx.workspace.id": ctx.workspace_id,
            "vmx.environment.id": ctx.environment_id, "vmx.endpoint": ctx.endpoint,
            "gen_ai.operation.name": "chat"})
        if not span.is_recording():
            return None
        return span


def _end_request_span(span: Any, ctx: RequestContext) -> None:
    if ctx.provider:
        span.set_attribute("gen_ai.system", GENAI_SYSTEM.get(ctx.provider, ctx.provider))
    if ctx.model:
        span.set_attribute("gen_ai.request.model", ctx.model)
        span.set_attribute("gen_ai.response.model", ctx.model)
    if ctx.resource_name:
        span.set_attribute("vmx.resource", ctx.resource_name)
    if ctx.usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", ctx.usage.input)
        span.set_attribute("gen_ai.usage.output_tokens", ctx.usage.output)
    span.set_attribute("http.response.status_code", ctx.status)
    if ctx.error is not None:
        span.set_attribute("error.type", ctx.error.error_type)
    span.end()


_TASKS: set[Any] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


def resource_slots(resource: ResourceSnapshot) -> list[tuple[str, ModelSlot]]:
    """Every model slot of a resource with its path (`model`, `fallbackModels[1]`, ...)."""
    slots: list[tuple[str, ModelSlot]] = [("model", resource.model)]
    slots += [(f"secondaryModels[{i}]", s) for i, s in enumerate(resource.secondary_models)]
    slots += [(f"fallbackModels[{i}]", s) for i, s in enumerate(resource.fallback_models)]
    if resource.routing is not None:
        slots += [(f"routing.conditions[{i}].then", c.then) for i, c in enumerate(resource.routing.conditions)
                  if c.then is not None]
    return slots
