"""Running the legs of one request: connection, circuit breaker, gate, the provider call with the
leg's retries and timeout inside the request deadline, then the next leg while failures are worth
a fallback (DESIGN §2 steps 5-7, §5)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from vmx_app.gateway.adapters import (
    AdapterConfigError,
    ProviderAdapter,
    ProviderError,
    ProviderException,
    UpstreamCall,
    UpstreamResponse,
)
from vmx_app.gateway.capacity.batch_share import BatchScope
from vmx_app.gateway.capacity.gate import ALLOWED, GateResult, LegContext
from vmx_app.gateway.config import ConnectionSnapshot, EnvironmentSnapshot, ResourceSnapshot
from vmx_app.gateway.context import RequestContext
from vmx_app.gateway.conversion import ThinkingKeeper, leg_body, remember
from vmx_app.gateway.convert import registry
from vmx_app.gateway.convert.usage import usage_from_passthrough
from vmx_app.gateway.deps import EngineDeps
from vmx_app.gateway.dispatch import (
    ENDPOINT_SHAPE,
    WirePlan,
    passthrough_body,
    wire_plan,
)
from vmx_app.gateway.errors import (
    GateHold,
    GatewayError,
    bad_request,
    classify,
    exhausted_status,
    failure_reason,
)
from vmx_app.gateway.fallback import Leg, backoff_delay, is_fallback_worthy, is_retryable, leg_timeout
from vmx_app.gateway.leg_spans import end_provider_span, provider_span, start_span, traceparent_of
from vmx_app.gateway.stream import StreamBridge
from vmx_app.gateway.tokens import estimate_tokens, max_output_tokens
from vmx_app.gateway.types import CanonicalRequest, Endpoint, FailureKind, Usage

T = TypeVar("T")
UPSTREAM_AUTH_STATUSES = frozenset({401, 403})


@dataclass(slots=True)
class CallState:
    """What every leg of one request shares."""

    ctx: RequestContext
    endpoint: Endpoint
    resource: ResourceSnapshot
    merged: dict[str, Any]
    stream: bool
    deadline: float | None
    extra_headers: Mapping[str, str] | None = None
    drop_usage_chunk: bool = False
    assemble: bool = False
    canonical: CanonicalRequest | None = None
    estimated_tokens: int | None = None
    environment: EnvironmentSnapshot | None = None  # loaded when the gate is active (budgets)
    trace: Any = None  # OpenTelemetry context of the request span when it records

    def tokens(self) -> int:
        if self.estimated_tokens is None:
            self.estimated_tokens = estimate_tokens(self.merged)
        return self.estimated_tokens


@dataclass(slots=True)
class LegResult:
    leg: Leg
    connection: ConnectionSnapshot
    plan: WirePlan
    gate: GateResult
    gate_ctx: LegContext
    provider_started: float
    body: bytes = b""  # non-stream: what the client gets
    payload: Any = None  # non-stream: the response as JSON (audit)
    usage: Usage | None = None
    bridge: StreamBridge | None = None
    first: bytes = b""  # stream: the first bytes, already read (fallback was possible until then)
    span: Any = None  # the provider-call span (streams end it when they end)
    content: list[Any] | None = None  # non-stream, converted: the answer's canonical parts
    upstream_headers: Mapping[str, str] | None = None  # the provider's answer (its rate-limit headroom)


class LegFailed(Exception):
    def __init__(self, kind: FailureKind, status: int, message: str, *, attempts: int = 0,
                 retry_after_s: float | None = None, code: str | None = None, connection: str | None = None,
                 refusal: GatewayError | None = None, hold: GateHold | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.message = message
        self.attempts = attempts
        self.retry_after_s = retry_after_s
        self.code = code
        self.connection = connection  # its name, for messages that must not quote the provider
        self.refusal = refusal  # a leg that could not be built: the 400 it would have answered
        self.hold = hold  # the gate held this leg back (kind "gate")


async def _within(aw: Awaitable[T], limit: float | None) -> T:
    if limit is None:
        return await aw
    async with asyncio.timeout(limit):
        return await aw


async def _open_stream(adapter: ProviderAdapter, call: UpstreamCall, st: CallState, plan: WirePlan,
                       deps: EngineDeps) -> tuple[StreamBridge, bytes]:
    upstream = await adapter.stream(call)
    bridge = StreamBridge(upstream, endpoint=st.endpoint, plan=plan, model=call.model, canonical=st.canonical,
                          drop_usage_chunk=st.drop_usage_chunk, assemble=st.assemble, deadline=st.deadline,
                          clock=deps.clock, keeper=_keeper(deps, st, plan))
    try:
        return bridge, await bridge.prime()
    except BaseException:
        await upstream.aclose()
        raise


async def run_legs(deps: EngineDeps, st: CallState, legs: list[Leg]) -> LegResult:
    """The first leg that answers; GatewayError when a client error stops the chain or all failed."""
    last: tuple[Leg, LegFailed] | None = None
    unbuilt = 0  # legs whose request could not be built for their provider
    first_refusal: GatewayError | None = None
    for leg in legs:
        try:
            return await _run_leg(deps, st, leg)
        except LegFailed as failed:
            if failed.refusal is not None:
                unbuilt += 1
                first_refusal = first_refusal or failed.refusal
            conn_id = leg.slot.connection_id
            st.ctx.add_fallback_event(
                slot_label=leg.label, provider=leg.slot.provider, model=leg.slot.model, connection_id=conn_id,
                reason=failure_reason(failed.kind, failed.status), status=failed.status, message=failed.message,
                attempts=failed.attempts)
            if failed.refusal is None or last is None or last[1].refusal is not None:
                last = (leg, failed)  # the answer reports the last leg that was actually tried
    assert last is not None, "plan_legs always plans at least one leg"
    leg, failed = last
    if unbuilt == len(legs) and first_refusal is not None:
        raise first_refusal  # no leg could take the request: the client's 400 (e.g. a field no target has)
    if failed.kind == "http" and failed.status in UPSTREAM_AUTH_STATUSES:
        # The provider's text can quote the (masked) provider key: it stays in the audit row's events.
        raise GatewayError(502, f"upstream authentication failed for connection {failed.connection}",
                           code="upstream_authentication_failed", type="api_error")
    status = exhausted_status(failed.kind, failed.status)
    headers = {}
    if status == 429 and failed.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(failed.retry_after_s)))
    code = failed.code or ("timeout" if status == 504 else "upstream_error")
    where = "every model failed" if len(legs) > 1 else "the model failed"
    raise GatewayError(status, f"{where}; last: {leg.slot.provider}/{leg.slot.model}: {failed.message}",
                       code=code, type="rate_limit_error" if status == 429 else None, headers=headers,
                       hold=failed.hold)


async def _connection(deps: EngineDeps, st: CallState, leg: Leg) -> ConnectionSnapshot:
    slot = leg.slot
    conn: ConnectionSnapshot | None = None
    try:
        if slot.connection_id:
            conn = await deps.config.get_connection(slot.connection_id)
        elif slot.connection_name:
            conn = await deps.config.get_connection_by_name(st.ctx.environment_id, slot.connection_name)
    except Exception as exc:  # noqa: BLE001 - e.g. credentials that no longer decrypt: try the next leg
        raise LegFailed("config", 502, f"{leg.label}: connection unusable: {exc}") from None
    if conn is None or conn.environment_id != st.ctx.environment_id:
        ref = slot.connection_id or slot.connection_name
        raise LegFailed("config", 502, f"{leg.label}: connection {ref!r} not found")
    if conn.allowed_models and slot.model not in conn.allowed_models:
        raise bad_request(f"{leg.label}.model: {slot.model!r} is not among the allowed models of connection "
                          f"{conn.name!r}", param=leg.label)
    return conn


async def _body(deps: EngineDeps, st: CallState, plan: WirePlan, conn: ConnectionSnapshot, slot: Any) -> dict[str, Any]:
    if plan.passthrough:
        return passthrough_body(plan, st.merged, slot.model, conn.provider, st.stream)
    return await leg_body(st, plan, conn, slot, deps.capabilities, deps.thinking)


def _client_error(exc: ProviderError, plan: WirePlan, provider: str, model: str) -> GatewayError:
    """The client's own 4xx, passed through: the provider's body when it speaks the endpoint's shape."""
    same_family = plan.passthrough and plan.wire != "bedrock-invoke" and bool(exc.body)
    headers = {}
    if exc.retry_after_s is not None:
        headers["retry-after"] = str(max(1, round(exc.retry_after_s)))
    return GatewayError(exc.status, f"{provider}/{model}: {exc.message}", code=exc.error_type or "upstream_error",
                        type=exc.error_type, headers=headers, raw=exc.body if same_family else None)


def _complete_body(st: CallState, plan: WirePlan, resp: UpstreamResponse, model: str,
                   result: LegResult) -> None:
    """Fill the client body of a non-stream answer; a body we cannot read counts as a 502."""
    data = resp.json
    if data is None:
        raise ProviderError(502, "provider answered with a non-JSON body", resp.headers, resp.raw)
    try:
        if plan.passthrough:
            result.body, result.payload = resp.raw, data
            result.usage = usage_from_passthrough(plan.shape, data)
            return
        canonical = registry.parse_provider_response(plan.shape, data, model)
        rendered = registry.render_endpoint_response(ENDPOINT_SHAPE[st.endpoint], canonical, st.canonical)
    except ProviderException:
        raise
    except Exception as exc:  # noqa: BLE001 - a malformed upstream answer is the upstream's failure
        raise ProviderError(502, f"unreadable provider response: {exc}", resp.headers, resp.raw) from exc
    result.body, result.payload, result.usage = orjson.dumps(rendered), rendered, canonical.usage
    result.content = canonical.content


def _keeper(deps: EngineDeps, st: CallState, plan: WirePlan) -> ThinkingKeeper | None:
    """Converted streams from Anthropic keep their signed thinking for the client's next turn."""
    if plan.passthrough or plan.shape != "anthropic" or deps.thinking is None:
        return None
    return ThinkingKeeper(deps.thinking, st.ctx.environment_id)


async def _settle(deps: EngineDeps, gate_ctx: LegContext, verdict: GateResult, usage: Usage | None,
                  failed: bool = False) -> None:
    if deps.gate_active:
        await deps.gate.settle(gate_ctx, verdict, usage, failed=failed)


async def _admit(deps: EngineDeps, st: CallState, gate_ctx: LegContext) -> GateResult:
    """The gate before one attempt: a denial another model cannot avoid answers at once."""
    verdict = await _gate(deps, st, gate_ctx)
    if verdict.headers:
        st.ctx.rate_headers = verdict.headers
    if verdict.allowed:
        return verdict
    message = verdict.message or "capacity exhausted"
    if not verdict.fallback:
        raise GatewayError(verdict.status, message, code=verdict.code, type=verdict.error_type,
                           headers=verdict.headers, hold=verdict.hold)
    raise LegFailed("gate", 429, message, retry_after_s=verdict.retry_after_s,
                    code=verdict.code or "resource_exhausted", hold=verdict.hold)


async def _gate(deps: EngineDeps, st: CallState, gate_ctx: LegContext) -> GateResult:
    if not deps.gate_active:
        if st.trace is not None:  # the span still shows the (empty) gate step in traces
            span = start_span(deps, st, "vmx.gate", {"vmx.gate.allowed": True})
            if span is not None:
                span.end()
        return ALLOWED
    span = start_span(deps, st, "vmx.gate", {"vmx.connection.id": gate_ctx.connection.id,
                                             "gen_ai.request.model": gate_ctx.slot.model})
    t = time.perf_counter()
    try:
        verdict = await deps.gate.check(gate_ctx)
    finally:
        st.ctx.gate_s += time.perf_counter() - t
    if span is not None:
        span.set_attribute("vmx.gate.allowed", verdict.allowed)
        span.end()
    return verdict


def _count_failure(deps: EngineDeps, rate_key: tuple[str, str, str], breaker_key: tuple[str, str],
                   status: int) -> None:
    deps.error_rates.record(rate_key, status, deps.wall())
    deps.breaker.record_failure(breaker_key, deps.clock())


async def _run_leg(deps: EngineDeps, st: CallState, leg: Leg) -> LegResult:
    slot = leg.slot
    ctx = st.ctx
    conn = await _connection(deps, st, leg)
    key = (conn.id, slot.model)
    if not deps.breaker.allow(key, deps.clock()):
        raise LegFailed("circuit", 503, f"circuit open for {conn.name}/{slot.model}: it keeps failing")
    try:
        adapter = deps.adapter_for(conn)
    except AdapterConfigError as exc:
        raise LegFailed("config", 502, f"connection {conn.name!r}: {exc}") from None
    plan = wire_plan(st.endpoint, conn.provider)
    try:
        body = await _body(deps, st, plan, conn, slot)
    except GatewayError as err:  # this provider cannot take the request: a failed leg, the chain goes on
        if err.status != 400:
            raise
        raise LegFailed("conversion", 400, f"{leg.label}: {err.message}", refusal=err) from None
    gate_ctx = LegContext(ctx.request_id, ctx.workspace_id, ctx.environment_id, st.resource, conn, slot,
                          ctx.api_key, ctx.source_ip, st.tokens() if deps.gate_active else 0, st.stream,
                          st.environment, max_output_tokens(st.merged),
                          BatchScope(ctx.batch_id, ctx.batch_capacity) if ctx.batch_id is not None else None)
    extra = st.extra_headers if plan.shape == "anthropic" else None
    rate_key = (st.resource.id, conn.id, slot.model)
    attempts = slot.max_retries + 1
    retried_status: int | None = None  # the last failure, retried: counted only if the leg ends failing
    for attempt in range(attempts):
        limit = leg_timeout(slot, st.deadline, deps.clock())
        if limit is not None and limit <= 0:
            if retried_status is not None:
                _count_failure(deps, rate_key, key, retried_status)
            raise LegFailed("timeout", 504, "request deadline (vmx.timeoutMs) exceeded", attempts=attempt)
        verdict = await _admit(deps, st, gate_ctx)  # every attempt takes capacity, retries included
        span = provider_span(deps, st, conn, slot.model, attempt)
        if span is not None:  # the provider's own tracing continues our trace
            extra = {**(extra or {}), "traceparent": traceparent_of(span)}
        call = UpstreamCall(plan.wire, slot.model, body, st.stream, limit, extra)
        started = time.perf_counter()
        result = LegResult(leg, conn, plan, verdict, gate_ctx, started, span=span)
        try:
            if st.stream:
                # One budget up to the first byte for the client: headers and first event share it.
                result.bridge, result.first = await _within(_open_stream(adapter, call, st, plan, deps), limit)
                answered = result.bridge.upstream.headers
            else:
                resp = await _within(adapter.send(call), limit)
                _complete_body(st, plan, resp, slot.model, result)
                if result.content is not None and plan.shape == "anthropic":
                    await remember(deps.thinking, ctx.environment_id, result.content)
                answered = result.upstream_headers = resp.headers
            if deps.observe_limits is not None:  # discovered capacity: the provider's rate-limit headers
                deps.observe_limits(conn, slot.model, answered)
        except asyncio.CancelledError:  # the client left: the attempt's tokens and cost go back
            await _settle(deps, gate_ctx, verdict, None, failed=True)
            raise
        except (ProviderException, TimeoutError) as exc:
            kind, status = classify(exc)
            end_provider_span(span, None, None, status, kind)
            await _settle(deps, gate_ctx, verdict, None, failed=True)  # this attempt's tokens and cost go back
            if not is_fallback_worthy(status, kind):
                deps.error_rates.record(rate_key, status, deps.wall())
                assert isinstance(exc, ProviderError)
                raise _client_error(exc, plan, conn.provider, slot.model) from None
            retry_after = exc.retry_after_s if isinstance(exc, ProviderError) else None
            message = exc.message if isinstance(exc, ProviderError) else (str(exc) or kind)
            if attempt + 1 < attempts and is_retryable(status, kind):
                delay = backoff_delay(attempt, retry_after, deps.rand)
                if st.deadline is None or deps.clock() + delay < st.deadline:
                    retried_status = status
                    await deps.sleep(delay)
                    continue
            # The leg's outcome, once: retries must not open the circuit nor inflate errorRate.
            _count_failure(deps, rate_key, key, status)
            raise LegFailed(kind, status, message, attempts=attempt + 1, retry_after_s=retry_after,
                            connection=conn.name) from None
        if not st.stream:
            ctx.provider_s = time.perf_counter() - started
            deps.error_rates.record(rate_key, 200, deps.wall())
            deps.breaker.record_success(key, deps.clock())
            end_provider_span(span, slot.model, result.usage, 200)
            await _settle(deps, gate_ctx, verdict, result.usage)
        return result
    raise AssertionError("unreachable: the last attempt returns or raises")
