"""Gateway-only entry point for uvicorn (`vmx gateway`)."""

from __future__ import annotations

from vmx_app.api.app import create_api
from vmx_app.api.routers.completion import CompletionFastPath
from vmx_app.api.slow_clients import BodyReadDeadline


def create_gateway_app() -> BodyReadDeadline:
    return BodyReadDeadline(CompletionFastPath(create_api(standalone=True)))
