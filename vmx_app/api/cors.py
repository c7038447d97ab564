"""CORS for the completion and management APIs (CORS_ALLOWED_ORIGINS, default none: no browser origin
but the console's own). Outermost, so the completion fast path answers preflights too; without origins
nothing is wrapped and the hot path pays nothing."""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from vmx_app.settings import get_settings

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What the OpenAI and Anthropic SDKs and the console's API calls send, plus W3C trace context.
ALLOWED_HEADERS = ("authorization", "x-api-key", "anthropic-version", "anthropic-beta", "content-type",
                   "traceparent", "tracestate")
EXPOSED_HEADERS = ("x-vmx-request-id", "x-vmx-resource", "x-vmx-provider", "x-vmx-model", "x-vmx-connection-id",
                   "x-vmx-correlation-id", "retry-after")


def with_cors(app: ASGIApp) -> ASGIApp:
    origins = get_settings().cors_origins
    if not origins:
        return app
    return CORSMiddleware(app, allow_origins=origins, allow_methods=ALLOWED_METHODS, allow_headers=ALLOWED_HEADERS,
                          expose_headers=EXPOSED_HEADERS, allow_credentials=False, max_age=600)
