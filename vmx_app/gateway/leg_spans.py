"""The OpenTelemetry spans of one leg: children of the request span, created only when it records
(no cost on the hot path when tracing is off)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vmx_app.gateway.config import ConnectionSnapshot
from vmx_app.gateway.dispatch import GENAI_SYSTEM
from vmx_app.gateway.types import Usage

if TYPE_CHECKING:
    from vmx_app.gateway.deps import EngineDeps
    from vmx_app.gateway.legs import CallState


def start_span(deps: EngineDeps, st: CallState, name: str, attributes: dict[str, Any]) -> Any:
    """A child of the request span, or None when tracing is off (no cost on the hot path)."""
    if st.trace is None or deps.tracer is None:
        return None
    return deps.tracer.start_span(name, context=st.trace, attributes=attributes)


def provider_span(deps: EngineDeps, st: CallState, conn: ConnectionSnapshot, model: str, attempt: int) -> Any:
    return start_span(deps, st, "vmx.provider_call", {
        "gen_ai.system": GENAI_SYSTEM.get(conn.provider, conn.provider),
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "vmx.connection.id": conn.id,
        "vmx.attempt": attempt,
        "vmx.stream": st.stream,
    })


def traceparent_of(span: Any) -> str:
    """The W3C header a provider gets: our provider-call span as its parent."""
    sc = span.get_span_context()
    return f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags):02x}"


def end_provider_span(span: Any, model: str | None, usage: Usage | None, status: int | None = None,
                      error: str | None = None) -> None:
    if span is None:
        return
    if model:
        span.set_attribute("gen_ai.response.model", model)
    if usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", usage.input)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output)
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    if error:
        span.set_attribute("error.type", error)
    span.end()
