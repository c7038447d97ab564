"""The FastAPI app: management API, completion API and health, mounted into Reflex or served alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vmx_app.api.body_limits import ManagementBodyLimits
from vmx_app.api.errors import install_error_handlers
from vmx_app.api.routers import all_routers
from vmx_app.lifecycle import lifespan


def create_api(*, standalone: bool = False) -> FastAPI:
    """`standalone` runs start-up and shutdown through FastAPI's lifespan (gateway-only mode);
    inside Reflex the same lifespan is registered with `app.register_lifespan_task`."""

    @asynccontextmanager
    async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with lifespan(console=False):
            yield

    api = FastAPI(
        title="VM-X API",
        version="0.1.0",
        lifespan=_lifespan if standalone else None,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    api.add_middleware(ManagementBodyLimits)
    for router in all_routers():
        api.include_router(router)

    @api.get("/ping", include_in_schema=False)
    async def ping() -> str:
        return "pong"

    return api
