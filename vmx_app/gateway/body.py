"""A completion request's JSON body, parsed with its limits: size (413), JSON object, nesting depth (400)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from vmx_app.gateway.errors import GatewayError, bad_request

if TYPE_CHECKING:
    from vmx_app.gateway.engine import GatewayRequest


def parse_body(req: GatewayRequest) -> dict[str, Any]:
    if req.body is None:
        raise GatewayError(413, f"request body exceeds the limit of {req.body_limit} bytes",
                           code="request_too_large", type="request_too_large")
    try:
        body = orjson.loads(req.body)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise bad_request("request body must be a JSON object", code="invalid_json")
    if nested_deeper_than(body, req.max_json_depth):
        raise bad_request(f"request body nests deeper than {req.max_json_depth} levels", code="invalid_json")
    return body


def nested_deeper_than(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Do JSON containers nest more than `limit` levels? Iterative: no recursion on hostile input."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False
