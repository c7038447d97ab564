"""Gateway-only entry point for uvicorn (`vmx gateway`)."""

from __future__ import annotations

from vmx_app.api.app import create_api
from vmx_app.api.routers.completion import CompletionFastPath


def create_gateway_app() -> CompletionFastPath:
    return CompletionFastPath(create_api(standalone=True))
