"""Which wire a leg speaks and what body it sends: pass-through when the client's shape equals the
provider's, conversion (endpoint -> canonical -> provider) otherwise. Plus the cheap shape checks a
pass-through body gets instead of a full parse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vmx_app.gateway.adapters import WireFormat
from vmx_app.gateway.convert import registry
from vmx_app.gateway.convert.capabilities import ModelCaps
from vmx_app.gateway.errors import GatewayError, bad_request
from vmx_app.gateway.types import CanonicalRequest, Endpoint, InvalidRequest, UnsupportedContent

ENDPOINT_SHAPE: dict[str, str] = {"chat": "openai_chat", "responses": "openai_responses", "anthropic": "anthropic"}
# OpenTelemetry GenAI `gen_ai.system` values.
GENAI_SYSTEM: dict[str, str] = {
    "openai": "openai", "anthropic": "anthropic", "gemini": "gemini", "groq": "groq", "perplexity": "perplexity",
    "bedrock": "aws.bedrock", "bedrock-invoke": "aws.bedrock", "openai-compatible": "openai",
}
_NUMBER_KEYS = ("temperature", "top_p", "frequency_penalty", "presence_penalty")
_INT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens", "top_k", "n", "seed")
_LIST_KEYS = ("tools", "stop_sequences")


@dataclass(frozen=True, slots=True)
class WirePlan:
    shape: str  # converter shape of the provider wire (openai_chat, openai_responses, anthropic, bedrock_converse)
    wire: WireFormat  # the adapter's wire name
    passthrough: bool


_PLANS: dict[tuple[str, str], WirePlan] = {}


def wire_plan(endpoint: Endpoint, provider: str) -> WirePlan:
    key = (endpoint, provider)
    plan = _PLANS.get(key)
    if plan is None:
        endpoint_shape = ENDPOINT_SHAPE[endpoint]
        shape = registry.wire_for(provider, endpoint_shape)
        wire: WireFormat
        if provider == "bedrock-invoke":
            wire = "bedrock-invoke"
        else:
            wire = {"openai_chat": "openai-chat", "openai_responses": "openai-responses",
                    "anthropic": "anthropic", "bedrock_converse": "bedrock-converse"}[shape]  # type: ignore[assignment]
        plan = _PLANS[key] = WirePlan(shape, wire, shape == endpoint_shape)
    return plan


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def check_body(endpoint: Endpoint, body: dict[str, Any]) -> str:
    """The resource name, after the type checks every shape shares. Raises a 400 naming the field."""
    model = body.get("model")
    if model is None or model == "":
        raise bad_request("`model` is required: the AI resource name", param="model")
    if not isinstance(model, str):
        raise bad_request("`model` must be a string", param="model")
    if endpoint == "responses":
        inp = body.get("input")
        if inp is not None and not isinstance(inp, str | list):
            raise bad_request("`input` must be a string or an array", param="input")
        if "instructions" in body and body["instructions"] is not None and not isinstance(body["instructions"], str):
            raise bad_request("`instructions` must be a string", param="instructions")
    else:
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise bad_request("`messages` must be an array", param="messages")
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
                raise bad_request(f"messages[{i}] must be an object with a string `role`", param=f"messages[{i}]")
        if endpoint == "anthropic" and "system" in body and not isinstance(body["system"], str | list | None):
            raise bad_request("`system` must be a string or an array of blocks", param="system")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("`stream` must be a boolean", param="stream")
    for key in _NUMBER_KEYS:
        v = body.get(key)
        if v is not None and not _is_number(v):
            raise bad_request(f"`{key}` must be a number", param=key)
    for key in _INT_KEYS:
        v = body.get(key)
        if v is not None and not _is_int(v):
            raise bad_request(f"`{key}` must be an integer", param=key)
    for key in _LIST_KEYS:
        v = body.get(key)
        if v is not None and not isinstance(v, list):
            raise bad_request(f"`{key}` must be an array", param=key)
    return model


def invalid(exc: InvalidRequest | UnsupportedContent) -> GatewayError:
    code = "unsupported_content" if isinstance(exc, UnsupportedContent) else "invalid_request"
    return bad_request(str(exc), code=code)


def parse_canonical(endpoint: Endpoint, body: dict[str, Any]) -> CanonicalRequest:
    try:
        return registry.parse_endpoint_request(ENDPOINT_SHAPE[endpoint], body)
    except (InvalidRequest, UnsupportedContent) as exc:
        raise invalid(exc) from None
    except (TypeError, AttributeError, KeyError, ValueError) as exc:  # a wrong type deep inside the body
        raise bad_request(f"invalid request body: {exc}") from None


def passthrough_body(plan: WirePlan, merged: dict[str, Any], model: str, provider: str,
                     stream: bool) -> dict[str, Any]:
    """The client's merged body for the provider: its model, and usage asked for on chat streams."""
    body = dict(merged)
    body["model"] = model
    if stream and plan.shape == "openai_chat" and provider != "perplexity":
        options = merged.get("stream_options")
        if not (isinstance(options, dict) and options.get("include_usage")):
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return body


def converted_body(plan: WirePlan, canonical: CanonicalRequest, model: str, provider: str,
                   caps: ModelCaps | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    try:
        return registry.build_provider_request(plan.shape, canonical, model, provider, caps, notes)
    except (InvalidRequest, UnsupportedContent) as exc:
        raise invalid(exc) from None


def client_wants_usage(endpoint: Endpoint, merged: dict[str, Any]) -> bool:
    """Chat clients get the trailing usage chunk only when they asked for it."""
    if endpoint != "chat":
        return True
    options = merged.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))
