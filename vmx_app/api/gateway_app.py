"""Gateway-only entry point for uvicorn (`vmx gateway`)."""

from __future__ import annotations

from starlette.types import ASGIApp

from vmx_app.api.app import create_api
from vmx_app.api.cors import with_cors
from vmx_app.api.routers.completion import CompletionFastPath
from vmx_app.api.slow_clients import BodyReadDeadline


def create_gateway_app() -> ASGIApp:
    return with_cors(BodyReadDeadline(CompletionFastPath(create_api(standalone=True))))
