"""Routing dry run: which rule a sample request would hit, and why, without calling any provider.

Pure, like routing.py: the caller passes the resource, the sample body, an `error_rate(window, status)`
bound to the primary model (live counters in the API), and the random source for traffic draws.
The same steps as the engine: split the `vmx` envelope, merge defaultArgs < body < providerArgs,
estimate tokens, evaluate; `secondaryModelIndex` skips routing exactly as it does on a real call.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from vmx_app.gateway.config import ModelSlot, ResourceConfig, RoutingConfig
from vmx_app.gateway.merge import apply_overrides, merge_request, split_vmx_envelope
from vmx_app.gateway.routing import evaluate_routing, routing_input_from_body
from vmx_app.gateway.types import Endpoint, ErrorRateFn

ENDPOINTS: tuple[Endpoint, ...] = ("chat", "responses", "anthropic")


def infer_endpoint(body: Mapping[str, Any]) -> Endpoint:
    """A Responses body carries `input` instead of `messages`; Chat and Anthropic bodies route alike."""
    if "input" in body and "messages" not in body:
        return "responses"
    return "chat"


def _slot(slot: ModelSlot | None) -> dict[str, Any] | None:
    return None if slot is None else slot.model_dump(by_alias=True, exclude_none=True, mode="json")


def dry_run(resource: ResourceConfig, sample: dict[str, Any], endpoint: Endpoint, *,
            error_rate: ErrorRateFn, api_key_name: str | None = None,
            routing: RoutingConfig | None = None, rand: Callable[[], float] = random.random) -> dict[str, Any]:
    """The decision for `sample` as the gateway would take it. `routing` tests an unsaved rule set.

    Raises EnvelopeError (a bad `vmx` envelope or override), like the completion endpoints do.
    """
    body, envelope = split_vmx_envelope(sample)
    resource = apply_overrides(resource, envelope.resource_config_overrides)
    merged = merge_request(resource.default_args, body, envelope.provider_args)
    inp = routing_input_from_body(merged, endpoint, envelope.metadata, api_key_name)
    variables = {**inp.variables(), "stream": inp.stream}
    rules = routing if routing is not None else resource.routing
    out: dict[str, Any] = {"endpoint": endpoint, "variables": variables, "primaryModel": _slot(resource.model)}
    if envelope.secondary_model_index is not None:
        index = envelope.secondary_model_index
        chosen = resource.secondary_models[index] if index < len(resource.secondary_models) else None
        reason = (f"vmx.secondaryModelIndex={index} skips routing" if chosen is not None else
                  f"vmx.secondaryModelIndex={index} is out of range ({len(resource.secondary_models)} "
                  "secondary models): the request would be refused with 400")
        return {**out, "action": "secondary" if chosen is not None else "invalid", "conditionIndex": None,
                "description": None, "model": _slot(chosen), "reason": reason, "trace": [reason]}
    decision = evaluate_routing(rules, inp, error_rate, rand)
    model = decision.slot if decision.action == "route" else None if decision.block else resource.model
    return {**out, "action": decision.action, "conditionIndex": decision.condition_index,
            "description": decision.description, "model": _slot(model), "reason": decision.reason,
            "trace": list(decision.trace) or [decision.reason]}
