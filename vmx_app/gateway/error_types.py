"""Provider error types and the HTTP status each stands for: one table for every wire format.

Errors reported inside a stream (Anthropic `error` events, OpenAI `error` objects, Bedrock exception
frames) carry a type, not a status; the adapters, the stream relay and the converters read it here.
"""

from __future__ import annotations

_STATUS_BY_TYPE: dict[str, int] = {
    "invalid_request_error": 400,
    "invalid_prompt": 400,
    "validationexception": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "accessdeniedexception": 403,
    "not_found_error": 404,
    "resourcenotfoundexception": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "throttlingexception": 429,
    "api_error": 500,
    "server_error": 500,
    "internalserverexception": 500,
    "modelstreamerrorexception": 500,
    "serviceunavailableexception": 503,
    "modelnotreadyexception": 503,
    "overloaded": 503,
    "timeout_error": 504,
    "modeltimeoutexception": 504,
    "overloaded_error": 529,
}


def status_for_error_type(error_type: str | None, default: int = 500) -> int:
    if not error_type:
        return default
    return _STATUS_BY_TYPE.get(error_type.lower(), default)
