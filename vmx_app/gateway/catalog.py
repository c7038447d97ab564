"""The two small completion routes beside the completions: the model list (the environment's
resources) and Anthropic's count_tokens (forwarded to Anthropic when the resource's model is
served by an Anthropic connection, estimated otherwise)."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from vmx_app.gateway.adapters import AdapterConfigError, ProviderError, ProviderException
from vmx_app.gateway.adapters.anthropic import AnthropicAdapter
from vmx_app.gateway.body import parse_body
from vmx_app.gateway.config import ConnectionSnapshot
from vmx_app.gateway.context import RequestContext, header_safe
from vmx_app.gateway.engine import Engine, GatewayRequest, GatewayResponse
from vmx_app.gateway.errors import GatewayError, bad_request, error_body
from vmx_app.gateway.merge import EnvelopeError, merge_request, split_vmx_envelope
from vmx_app.gateway.tokens import estimate_tokens
from vmx_app.gateway.types import Endpoint

# What Anthropic's count_tokens accepts; sampling parameters such as max_tokens are refused there.
_COUNT_KEYS = ("messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")
_COUNT_TIMEOUT_S = 30.0
log = logging.getLogger("vmx.gateway")
COUNT_SOURCE_HEADER = "x-vmx-token-count-source"


async def list_models(engine: Engine, req: GatewayRequest, shape: Endpoint = "chat") -> GatewayResponse:
    """The resources the key may call, as an OpenAI (or Anthropic) model list."""
    ctx = RequestContext(str(uuid.uuid4()), req.workspace_id, req.environment_id, shape, req.source_ip)
    try:
        key = await engine.authenticate(ctx, req)
    except GatewayError as err:
        return GatewayResponse(err.status, {"x-vmx-request-id": ctx.request_id}, error_body(shape, err))
    resources = await engine.deps.config.list_resources(req.environment_id)
    names = sorted(r.name for r in resources if r.workspace_id == req.workspace_id
                   and (not key.resources or r.id in key.resources))
    now = int(time.time())
    if shape == "anthropic":
        stamp = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
        data: list[dict[str, Any]] = [{"type": "model", "id": n, "display_name": n, "created_at": stamp}
                                      for n in names]
        body = {"data": data, "has_more": False, "first_id": names[0] if names else None,
                "last_id": names[-1] if names else None}
    else:
        body = {"object": "list", "data": [{"id": n, "object": "model", "created": now, "owned_by": "vm-x"}
                                           for n in names]}
    return GatewayResponse(200, {"x-vmx-request-id": ctx.request_id}, orjson.dumps(body))


async def count_tokens(engine: Engine, req: GatewayRequest) -> GatewayResponse:
    """`{"input_tokens": N}` for an Anthropic Messages body naming a resource."""
    ctx = RequestContext(str(uuid.uuid4()), req.workspace_id, req.environment_id, "anthropic", req.source_ip)
    headers = {"x-vmx-request-id": ctx.request_id}
    try:
        key = await engine.authenticate(ctx, req)
        body = parse_body(req)
        resource = await engine.resolve_resource(ctx, key, body)
        try:
            body, envelope = split_vmx_envelope(body)
        except EnvelopeError as exc:
            raise bad_request(str(exc), param=exc.field) from None
        merged = merge_request(resource.default_args, body, envelope.provider_args)
        if not isinstance(merged.get("messages"), list):
            raise bad_request("`messages` must be an array", param="messages")
        slot = resource.model
        headers["x-vmx-resource"] = header_safe(resource.name)
        try:
            conn = await engine.deps.config.get_connection(slot.connection_id) if slot.connection_id else None
        except Exception:  # noqa: BLE001 - unusable credentials: the estimate still answers
            conn = None
        if conn is not None and conn.provider == "anthropic" and conn.environment_id == req.environment_id:
            headers.update({"x-vmx-provider": header_safe(conn.provider), "x-vmx-model": header_safe(slot.model),
                            "x-vmx-connection-id": conn.id})
            counted = await _forward(engine, conn, merged, slot.model, req.anthropic_beta)
            if counted is not None:
                headers[COUNT_SOURCE_HEADER] = "provider"
                return GatewayResponse(200, headers, orjson.dumps({"input_tokens": counted}))
        headers[COUNT_SOURCE_HEADER] = "estimate"  # no Anthropic count to ask for: say it is ours
        return GatewayResponse(200, headers, orjson.dumps({"input_tokens": estimate_tokens(merged)}))
    except GatewayError as err:
        headers.update(err.headers)
        return GatewayResponse(err.status, headers, error_body("anthropic", err))


async def _forward(engine: Engine, conn: ConnectionSnapshot, body: dict[str, Any], model: str,
                   beta: str | None) -> int | None:
    """Anthropic's own count through the connection's adapter (its pooled client and credentials);
    None when it cannot answer (network, 5xx, unusable config): the caller estimates. The client's
    own 4xx is passed through."""
    payload = {k: body[k] for k in _COUNT_KEYS if k in body}
    payload["model"] = model
    try:
        adapter = engine.deps.adapter_for(conn)
    except AdapterConfigError:
        return None
    if not isinstance(adapter, AnthropicAdapter):
        return None
    try:
        resp = await adapter.count_tokens(payload, {"anthropic-beta": beta} if beta else None, _COUNT_TIMEOUT_S)
    except ProviderError as exc:
        if exc.status in (401, 403):  # the provider's text can quote the (masked) key: never shown
            log.warning("count_tokens: connection %s refused by the provider (%s): %s", conn.name, exc.status,
                        exc.message)
            raise GatewayError(502, f"upstream authentication failed for connection {conn.name}",
                               code="upstream_authentication_failed", type="api_error") from None
        if 400 <= exc.status < 500 and exc.status not in (404, 408, 429):
            raise GatewayError(exc.status, exc.message, type=exc.error_type, raw=exc.body or None) from None
        return None
    except ProviderException:
        return None
    value = (resp.json or {}).get("input_tokens")
    return value if isinstance(value, int) else None
