"""Gateway-only entry point for uvicorn (`vmx gateway`)."""

from __future__ import annotations

from fastapi import FastAPI

from vmx_app.api.app import create_api


def create_gateway_app() -> FastAPI:
    return create_api(standalone=True)
